// Which V8 tier runs the compiled module. By default V8 compiles wasm with Liftoff, its
// baseline compiler, and tiers hot functions up to TurboFan in the background; on a loaded
// machine packets ran on baseline code for seconds. Where packets run (test-run, run, the
// bench, datapath workers) the module is compiled with TurboFan up front instead:
// `--no-liftoff` before the module is compiled. V8's flags are the process's, so the
// setting reaches worker threads too (they call this as well, to say so where they run).
// Node 20's V8 (11.3) honours it after start-up for modules compiled afterwards; katran's
// module then takes ~10 ms to compile instead of ~1 ms (bench/README.md). The compiler's
// own wasm (binaryen, wabt) stays on the baseline tier: commands that compile set
// --liftoff-only before loading it, and commands that run packets load it first.
//
// `--experimental-wasm-inlining` lets TurboFan inline small wasm functions into their
// callers (V8 turns it on by default from 12.x; Node 20's 11.3 has it behind the flag):
// above all the program's run into its batch driver (compiler/codegen-batch.ts) when the
// program is small, which took xdp_pass's fixed cost per packet from ~6 to ~3 ns of
// driver (bench/README.md "Fixed cost"). Large functions (katran's) are not inlined.

import { setFlagsFromString } from 'node:v8';

export const OPTIMISED_FLAGS = '--no-liftoff --experimental-wasm-inlining';
let set = false;

/** Make V8 compile the modules compiled from now on with TurboFan only. */
export function compileOptimised(): void {
  if (set) return;
  setFlagsFromString(OPTIMISED_FLAGS);
  set = true;
}

/** The V8 flags this thread set for the module's tier, or undefined (V8's default tiering). */
export const optimisedFlags = (): string | undefined => (set ? OPTIMISED_FLAGS : undefined);
