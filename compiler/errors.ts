// Errors a user can cause (bad input, unsupported features, rejected programs) are
// UserError: the CLI prints their message as one line and exits 1. Anything else that
// escapes is a bug in bpf2wasm and exits 2.

export class UserError extends Error {
  override name = 'UserError';
}

/** A problem located in the input object: names the section and, when known, the slot. */
export class ObjectError extends UserError {
  override name = 'ObjectError';
  constructor(readonly where: string, readonly reason: string) {
    super(`${where}: ${reason}`);
  }
}

/** A program the verifier refuses: names the instruction index, its disassembly and why. */
export class VerifyError extends UserError {
  override name = 'VerifyError';
  constructor(
    readonly program: string,
    readonly pc: number,
    readonly insnText: string,
    readonly reason: string,
  ) {
    super(`${program}: instruction ${pc} (${insnText}): ${reason}`);
  }
}
