// V8 flags for a process that compiles once and exits (the compile command): set before
// binaryen or wabt is loaded. A command that runs packets never sets them. The derived
// binaryen's code cache is made under the same flags (scripts/derive-binaryen.mjs), since
// V8 rejects a cache made under other flags.
//
// --liftoff-only: binaryen's and wabt's wasm are worth V8's baseline compiler only; tiering
//   binaryen's large functions up to TurboFan cost more CPU than it saved (katran at -O1:
//   2.0 s of CPU with it, 0.85 s without; bench/README.md).
// --wasm-lazy-validation: V8 compiles wasm functions lazily, on first call, but validates
//   every function of the module at compile time; binaryen's 9.9 MB took 60-150 ms of that
//   per run (bench/README.md, compile section). Its functions are validated when they are
//   first compiled instead; the derived copy was validated whole when it was derived.

import { setFlagsFromString } from 'node:v8';

export const COMPILER_V8_FLAGS: readonly string[] = ['--liftoff-only', '--wasm-lazy-validation'];

export function setCompilerV8Flags(): void {
  for (const flag of COMPILER_V8_FLAGS) setFlagsFromString(flag);
}
