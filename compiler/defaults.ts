// Compiler defaults, apart from the pipeline so that the command line can show them in
// --help without loading binaryen.

/**
 * -O1: V8's optimising tier does the heavy lifting on the module, so -O2/-O3 buy no
 * measurable speed per packet (katran: 677-697 ns at every level) but cost compile time
 * (katran cold: 0.8 s at -O1, 1.1 s at -O2, 2.2 s at -O3).
 */
export const DEFAULT_OPT_LEVEL = 1;
