// Bits of the verifier's addressCompares fact (verifier/index.ts VerifyResult): which
// operands of a 64-bit register compare held a packet address on every walk. Such an
// operand q is never 0, so q - 1 does not wrap and `q > y` is `q - 1 >= y`: codegen
// compares p for q when the block set q = p + 1 (bounds-check.ts).

export const ADDRESS_DST = 1;
export const ADDRESS_SRC = 2;
