// The default per-packet budget, apart from the machine so that the command line can show
// it in --help without loading the runtime.

/** Back-edges (taken backward jumps and calls) per packet before the run is aborted. */
export const DEFAULT_BUDGET = 1 << 20;
