// Errors a user can cause (bad input, unsupported features, rejected programs) are
// UserError: the CLI prints their message as one line and exits 1. Anything else that
// escapes is a bug in bpf2wasm and exits 2.

export class UserError extends Error {
  override name = 'UserError';
}

/**
 * Names read from a malformed object can hold any bytes: show control characters as
 * escapes and cut long runs, so that an error stays one readable line.
 */
export function printable(text: string, max = 120): string {
  const clean = text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/** A problem located in the input object: names the section and, when known, the slot. */
export class ObjectError extends UserError {
  override name = 'ObjectError';
  constructor(
    readonly where: string,
    readonly reason: string,
  ) {
    super(`${printable(where, 400)}: ${printable(reason, 400)}`);
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
    super(`${printable(program)}: instruction ${pc} (${insnText}): ${printable(reason, 400)}`);
  }
}
