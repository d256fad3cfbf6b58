// The verifier's steps report a problem by throwing `Problem` with the offending
// instruction; verify() turns it into a VerifyError naming the program and the disassembly.

import type { Insn } from '../../core/isa.js';

export class Problem extends Error {
  constructor(
    readonly insn: Insn,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function reject(insn: Insn, reason: string): never {
  throw new Problem(insn, reason);
}
