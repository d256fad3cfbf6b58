// Loading binaryen: the only module that imports it (compiler/binaryen.ts hands the loaded
// object to codegen). From the copy scripts/derive-binaryen.mjs made at build time in
// dist/binaryen/ when it matches the installed binaryen: its wasm as a file (compiled by
// V8 off the main thread, no 14.8 MB of JS to parse and decode), its JS through vm.Script
// with V8's code cache. Otherwise, or if anything in that path fails, the plain
// `import('binaryen')`, which gives the same binaryen (test/compiler/binaryen-load.test.ts
// compares the modules both build). BPF2WASM_BINARYEN=import forces the plain import.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import type Binaryen from 'binaryen';

export type BinaryenApi = typeof Binaryen;

/** How binaryen was loaded: the derived copy with or without V8 accepting its code cache, or the plain import. */
export type BinaryenSource = 'derived+cache' | 'derived' | 'import';

const derivedDir = new URL('../binaryen/', import.meta.url);
const file = (name: string): string => fileURLToPath(new URL(name, derivedDir));

interface Manifest {
  binaryen: string;
  indexBytes: number;
  node: string;
  v8: string;
  /** How many functions the wasm's compilationHints section marks eager (0 or absent: no section). */
  compilationHints?: number;
}

type Factory = (options: {
  instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => object;
}) => Promise<BinaryenApi>;

/** The derived copy's pieces when its manifest matches the installed binaryen, else undefined. */
function derivedCopy(): { manifest: Manifest; indexUrl: string } | undefined {
  if (process.env['BPF2WASM_BINARYEN'] === 'import') return undefined;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(file('binaryen.json'), 'utf8')) as Manifest;
  } catch {
    return undefined; // not derived (a build without the script, or binaryen's shape changed)
  }
  const indexUrl = import.meta.resolve('binaryen');
  const pkg = createRequire(indexUrl)('./package.json') as { version: string };
  // A reinstall of another binaryen (or a patched one) must not run against the old copy.
  if (pkg.version !== manifest.binaryen || statSync(fileURLToPath(indexUrl)).size !== manifest.indexBytes) return undefined;
  return { manifest, indexUrl };
}

async function loadDerived(
  copy: { manifest: Manifest; indexUrl: string },
  useCache: boolean,
): Promise<{ binaryen: BinaryenApi; script: Script; cacheAccepted: boolean }> {
  // Without a hints section every function would count as eager under the compile's flags
  // (compiler/v8-flags.ts): all 9.9 MB compiled up front instead of the ~1.8 MB a compile calls.
  if (!copy.manifest.compilationHints) setFlagsFromString('--wasm-lazy-compilation');
  // The wasm compiles on V8's background threads while the JS below is compiled and run
  // (its hinted functions too, compiler/v8-flags.ts).
  const compiled = WebAssembly.compile(readFileSync(file('binaryen.wasm')));
  compiled.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  let cachedData: Buffer | undefined;
  if (useCache && copy.manifest.node === process.version && copy.manifest.v8 === process.versions.v8) {
    try {
      cachedData = readFileSync(file('binaryen.v8cache'));
    } catch {
      cachedData = undefined;
    }
  }
  // V8 checks the cache against the source and its own version and flags, and compiles
  // the source instead when it rejects it (another Node, or a process without compiler/v8-flags.ts's flags).
  const script = new Script(readFileSync(file('binaryen.js'), 'utf8'), { filename: file('binaryen.js'), cachedData });
  const cacheAccepted = cachedData !== undefined && !script.cachedDataRejected;
  const define = script.runInThisContext() as (url: string, nodeModule: object, wasmBytes: null) => Factory;
  const factory = define(copy.indexUrl, { createRequire }, null);
  const binaryen = await factory({
    // emscripten's hook: instantiate the module compiled above instead of the embedded bytes.
    instantiateWasm(imports, done) {
      compiled.then((module) => WebAssembly.instantiate(module, imports)).then(done, () => undefined);
      return {};
    },
  });
  await compiled; // a failed compile surfaces here, not as a binaryen that never initialised
  return { binaryen, script, cacheAccepted };
}

let loading: Promise<{ binaryen: BinaryenApi; source: BinaryenSource }> | undefined;

/**
 * Loads binaryen, from the derived copy when there is a usable one. Once per process: the
 * compile command calls it early, so that the wasm compiles while the compiler's modules
 * load, and compiler/binaryen.ts's call then takes the same load.
 */
export function loadBinaryen(): Promise<{ binaryen: BinaryenApi; source: BinaryenSource }> {
  return (loading ??= load());
}

async function load(): Promise<{ binaryen: BinaryenApi; source: BinaryenSource }> {
  const copy = derivedCopy();
  if (copy) {
    try {
      const { binaryen, cacheAccepted } = await loadDerived(copy, true);
      return { binaryen, source: cacheAccepted ? 'derived+cache' : 'derived' };
    } catch {
      // fall through: the plain import is always right, only slower
    }
  }
  setFlagsFromString('--wasm-lazy-compilation'); // no hints here: eager would compile every function
  const { default: binaryen } = await import('binaryen');
  return { binaryen, source: 'import' };
}

/** For scripts/derive-binaryen.mjs: loads the derived copy without a cache and writes V8's code cache of it, made after binaryen's start-up ran. */
export async function writeBinaryenCodeCache(): Promise<void> {
  const copy = derivedCopy();
  if (!copy) throw new Error('no derived binaryen to make a code cache for');
  const { binaryen, script } = await loadDerived(copy, false);
  // A first module, so that the functions every compile calls are compiled into the cache too.
  const m = new binaryen.Module();
  m.addFunction('f', binaryen.none, binaryen.i32, [], m.i32.const(0));
  m.addFunctionExport('f', 'f');
  m.optimize();
  m.emitBinary();
  m.dispose();
  writeFileSync(file('binaryen.v8cache'), script.createCachedData());
}
