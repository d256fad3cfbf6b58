// Bits of the verifier's addressCompares fact (verifier/index.ts VerifyResult): which
// operands of a 64-bit register compare held a packet address on every walk. Such an
// operand is never 0, so codegen may compare `x - 1 >= y` for `x > y` (codegen.ts
// condition): when x was just computed as `p + 1`, the `+ 1` and `- 1` cancel and V8 keeps
// one address computation per bounds check instead of two (bench/README.md "Session 7").

export const ADDRESS_DST = 1;
export const ADDRESS_SRC = 2;
