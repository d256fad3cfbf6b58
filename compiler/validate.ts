// Second opinion on every module we emit: wabt reads and validates the binary with the
// features codegen enables (wabt needs them spelled out).

import { createRequire } from 'node:module';
import type wabtInit from 'wabt';

let wabtPromise: ReturnType<typeof wabtInit> | undefined;

export const WASM_FEATURES = {
  threads: true,
  mutable_globals: true,
  sign_extension: true,
  bulk_memory: true,
  tail_call: true,
  multi_value: true,
};

/**
 * Start loading wabt (its own wasm compiles off the main thread) so that it is ready by
 * the time a module is generated; wabtValidate() then does not wait for it.
 */
export function prepareWabt(): void {
  // wabt is CommonJS (690 KB): require() skips the scan for named exports that an ES
  // import runs over its source first (~0.1 s of a compile's start-up on the loaded
  // machine, bench/README.md).
  wabtPromise ??= (createRequire(import.meta.url)('wabt') as typeof wabtInit)();
}

/** Returns undefined when valid, else wabt's message. */
export async function wabtValidate(binary: Uint8Array): Promise<string | undefined> {
  prepareWabt();
  const wabt = await wabtPromise!;
  let mod: ReturnType<typeof wabt.readWasm> | undefined;
  try {
    mod = wabt.readWasm(binary, { readDebugNames: false, ...WASM_FEATURES });
    // The typings omit it, but validate() takes the feature set too (shared memory needs threads).
    (mod.validate as (this: typeof mod, features: object) => void).call(mod, WASM_FEATURES);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    mod?.destroy();
  }
}
