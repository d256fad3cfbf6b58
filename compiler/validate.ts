// Second opinion on every module we emit: wabt reads and validates the binary with the
// features codegen enables (wabt needs them spelled out).

import { loadWabt, type WabtApi } from './wabt-load.js';

let wabtPromise: Promise<WabtApi> | undefined;

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
  // From the copy derived at build time when there is one (compiler/wabt-load.ts).
  wabtPromise ??= loadWabt().then((loaded) => loaded.wabt);
}

/** Returns undefined when valid, else wabt's message. */
export async function wabtValidate(binary: Uint8Array): Promise<string | undefined> {
  prepareWabt();
  const wabt = await wabtPromise!;
  let mod: ReturnType<typeof wabt.readWasm> | undefined;
  try {
    // wabt reads the view's whole buffer from its start: a view into a larger buffer (a
    // pooled Buffer) is copied first, or wabt reads other bytes.
    const bytes = binary.byteOffset === 0 && binary.byteLength === binary.buffer.byteLength ? binary : new Uint8Array(binary);
    mod = wabt.readWasm(bytes, { readDebugNames: false, ...WASM_FEATURES });
    // The typings omit it, but validate() takes the feature set too (shared memory needs threads).
    (mod.validate as (this: typeof mod, features: object) => void).call(mod, WASM_FEATURES);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    mod?.destroy();
  }
}
