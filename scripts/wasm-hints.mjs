// V8's compilationHints section for a derived wasm (scripts/derive-binaryen.mjs,
// scripts/derive-wabt.mjs): which functions V8 compiles up front, on its background
// threads, and which on first call (compiler/v8-flags.ts). The functions to compile up
// front are those a traced run compiled (V8's --trace-wasm-compilation-times). Also the two
// steps both derive scripts take in fresh processes (the traced run and the code cache)
// and their up-to-date check.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The function indices of the module V8 compiled the most functions of, from a --trace-wasm-compilation-times output. */
export function mostCompiled(trace) {
  const byModule = new Map();
  for (const [, module, index] of trace.matchAll(/^Compiled function (0x[0-9a-f]+)#(\d+) using Liftoff/gm)) {
    if (!byModule.has(module)) byModule.set(module, new Set());
    byModule.get(module).add(Number(index));
  }
  return [...byModule.values()].sort((a, b) => b.size - a.size)[0] ?? new Set();
}

/**
 * `wasm` with a compilationHints custom section after its function section (where V8
 * looks for it: after the function section, before the code section): one byte per
 * declared function, strategy in bits 0-1 (1 lazy, 2 eager), baseline tier in bits 2-3
 * and top tier in bits 4-5 (1 Liftoff). `called` holds function indices (imports first).
 */
export function withCompilationHints(bytes, called) {
  if (called.size === 0) return undefined;
  let at = 8; // after the magic number and version
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return value;
    }
  };
  const skipName = () => {
    const length = leb(); // read before `at` is: `at += leb()` would add to the old position
    at += length;
  };
  const skipLimits = () => {
    const flags = bytes[at++];
    leb();
    if (flags & 1) leb();
  };
  let importedFunctions = 0;
  let declared = 0;
  let functionSectionEnd = -1;
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        skipName();
        skipName();
        const kind = bytes[at++];
        if (kind === 0) (leb(), importedFunctions++);
        else if (kind === 1) (at++, skipLimits());
        else if (kind === 2) skipLimits();
        else if (kind === 3) at += 2;
        else return undefined; // an import kind this does not know: no hints
      }
    } else if (id === 3) {
      declared = leb();
      functionSectionEnd = end;
    }
    at = end;
  }
  if (functionSectionEnd < 0) return undefined;
  const LAZY = 0x01;
  const EAGER_LIFTOFF = 0x02 | (1 << 2) | (1 << 4);
  const hints = new Uint8Array(declared).fill(LAZY);
  let eager = 0;
  for (const index of called) {
    const declaredIndex = index - importedFunctions;
    if (declaredIndex < 0 || declaredIndex >= declared) return undefined; // not binaryen's numbering
    hints[declaredIndex] = EAGER_LIFTOFF;
    eager++;
  }
  const uleb = (n) => {
    const out = [];
    do {
      out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n);
    return out;
  };
  const name = Buffer.from('compilationHints');
  const payload = Buffer.concat([Buffer.from(uleb(name.length)), name, Buffer.from(uleb(declared)), hints]);
  const section = Buffer.concat([Buffer.from([0, ...uleb(payload.length)]), payload]);
  return { wasm: Buffer.concat([bytes.subarray(0, functionSectionEnd), section, bytes.subarray(functionSectionEnd)]), eager };
}

/**
 * Runs `script` (an ES module body) in a fresh node with `flags` (the compile's baseline
 * flags) and V8 tracing every wasm function it compiles; returns the exit status and the
 * functions compiled in the module that had the most (mostCompiled).
 */
export function tracedCompiles(flags, script) {
  const traced = spawnSync(process.execPath, [...flags, '--trace-wasm-compilation-times', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { status: traced.status, signal: traced.signal, called: mostCompiled(traced.stdout ?? '') };
}

/**
 * Makes a derived copy's V8 code cache in a fresh process with the compile's flags (V8
 * rejects a cache made under other flags): `writer` is the name of the function the built
 * `loader` module exports for it. Returns an error message, or undefined.
 */
export function makeCodeCache(flagsModule, loader, writer) {
  const made = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { setCompilerV8Flags } = await import(${JSON.stringify(flagsModule)});
       setCompilerV8Flags();
       const loader = await import(${JSON.stringify(loader)});
       await loader[${JSON.stringify(writer)}]();`,
    ],
    { stdio: 'inherit' },
  );
  return made.status === 0 ? undefined : `making the code cache failed (exit ${made.status ?? made.signal})`;
}

/**
 * The manifest (`name`.json) of the derived copy in `outDir` when the copy is complete
 * (`name`.js, .wasm and .v8cache present) and its manifest has every field of `expected`
 * (compared as JSON); otherwise undefined: derive again.
 */
export function currentManifest(outDir, name, expected) {
  try {
    const old = JSON.parse(readFileSync(join(outDir, `${name}.json`), 'utf8'));
    const complete = ['js', 'wasm', 'v8cache'].every((ext) => existsSync(join(outDir, `${name}.${ext}`)));
    const same = Object.entries(expected).every(([field, value]) => JSON.stringify(old[field]) === JSON.stringify(value));
    return complete && same ? old : undefined;
  } catch {
    return undefined; // not derived yet
  }
}
