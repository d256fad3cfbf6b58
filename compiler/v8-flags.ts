// V8 flags for a process that compiles once and exits (the compile command): set before
// binaryen or wabt is loaded. A command that runs packets never sets them. The derived
// binaryen's code cache is made under the same flags (scripts/derive-binaryen.mjs), since
// V8 rejects a cache made under other flags.
//
// --liftoff-only: binaryen's and wabt's wasm are worth V8's baseline compiler only; tiering
//   binaryen's large functions up to TurboFan cost more CPU than it saved (katran at -O1:
//   2.0 s of CPU with it, 0.85 s without; bench/README.md).
// --wasm-lazy-validation: a function compiled lazily is validated when it is compiled, not
//   with the whole module at compile time; binaryen's 9.9 MB took 60-150 ms of that per run
//   (bench/README.md, compile section). The derived copy was validated whole when it was derived.
// --no-wasm-lazy-compilation with --experimental-wasm-compilation-hints: the derived
//   binaryen carries a compilationHints section (scripts/derive-binaryen.mjs) that marks
//   the ~1,400 of its 12,710 functions a compile calls as eager and the rest as lazy. V8
//   compiles the eager ones on its background threads while this process loads its modules
//   and reads the object, instead of one by one on the main thread at their first call
//   (60-110 ms of a compile; bench/README.md, "Session 7"). Without the section (the plain
//   import) every function would be eager: the loader then turns lazy compilation back on.

import { setFlagsFromString } from 'node:v8';

/** What binaryen's and wabt's wasm need in any compile: baseline code, validated lazily. */
export const BASELINE_V8_FLAGS: readonly string[] = ['--liftoff-only', '--wasm-lazy-validation'];

/** Functions compiled up front as the derived binaryen's compilationHints section says. */
export const HINTED_V8_FLAGS: readonly string[] = ['--no-wasm-lazy-compilation', '--experimental-wasm-compilation-hints'];

export const COMPILER_V8_FLAGS: readonly string[] = [...BASELINE_V8_FLAGS, ...HINTED_V8_FLAGS];

export function setCompilerV8Flags(): void {
  for (const flag of COMPILER_V8_FLAGS) setFlagsFromString(flag);
}
