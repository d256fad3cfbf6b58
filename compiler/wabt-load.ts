// Loading wabt (compiler/validate.ts's second opinion on every module a compile writes):
// from the copy scripts/derive-wabt.mjs made at build time in dist/wabt/ when it matches
// the installed wabt (its wasm as a file compiled by V8 off the main thread, its JS without
// the 380 KB wasm literal, through vm.Script with V8's code cache); otherwise, or if that
// path fails, require('wabt'). test/compiler/wabt-load.test.ts holds the two to the same
// verdicts. BPF2WASM_WABT=require forces the plain require.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import type wabtInit from 'wabt';

export type WabtApi = Awaited<ReturnType<typeof wabtInit>>;

/** How wabt was loaded: the derived copy with or without V8 accepting its code cache, or require('wabt'). */
export type WabtSource = 'derived+cache' | 'derived' | 'require';

const require = createRequire(import.meta.url);
const derivedDir = new URL('../wabt/', import.meta.url);
const file = (name: string): string => fileURLToPath(new URL(name, derivedDir));

interface Manifest {
  wabt: string;
  indexBytes: number;
  node: string;
  v8: string;
}

type Factory = (options: {
  instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => object;
}) => Promise<WabtApi>;

/** The derived copy's manifest and wabt's index.js when it matches the installed wabt, else undefined. */
function derivedCopy(): { manifest: Manifest; indexPath: string } | undefined {
  if (process.env['BPF2WASM_WABT'] === 'require') return undefined;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(file('wabt.json'), 'utf8')) as Manifest;
  } catch {
    return undefined; // not derived
  }
  const indexPath = require.resolve('wabt');
  const pkg = createRequire(indexPath)('./package.json') as { version: string };
  // A reinstall of another wabt (or a patched one) must not run against the old copy.
  if (pkg.version !== manifest.wabt || statSync(indexPath).size !== manifest.indexBytes) return undefined;
  return { manifest, indexPath };
}

async function loadDerived(
  copy: { manifest: Manifest; indexPath: string },
  useCache: boolean,
): Promise<{ wabt: WabtApi; script: Script; cacheAccepted: boolean }> {
  const compiled = WebAssembly.compile(readFileSync(file('wabt.wasm')));
  compiled.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  let cachedData: Buffer | undefined;
  if (useCache && copy.manifest.node === process.version && copy.manifest.v8 === process.versions.v8) {
    try {
      cachedData = readFileSync(file('wabt.v8cache'));
    } catch {
      cachedData = undefined;
    }
  }
  const script = new Script(readFileSync(file('wabt.js'), 'utf8'), { filename: file('wabt.js'), cachedData });
  const cacheAccepted = cachedData !== undefined && !script.cachedDataRejected;
  const define = script.runInThisContext() as (
    exports: object,
    require: NodeRequire,
    module: { exports: unknown },
    filename: string,
    dirname: string,
  ) => void;
  const module = { exports: {} as unknown };
  define(module.exports as object, createRequire(copy.indexPath), module, copy.indexPath, dirname(copy.indexPath));
  const factory = module.exports as Factory;
  const wabt = await factory({
    // emscripten's hook: instantiate the module compiled above instead of decoding the literal.
    instantiateWasm(imports, done) {
      compiled.then((m) => WebAssembly.instantiate(m, imports).then((instance) => done(instance, m))).catch(() => undefined);
      return {};
    },
  });
  await compiled; // a failed compile surfaces here
  return { wabt, script, cacheAccepted };
}

async function load(): Promise<{ wabt: WabtApi; source: WabtSource }> {
  const copy = derivedCopy();
  if (copy) {
    try {
      const { wabt, cacheAccepted } = await loadDerived(copy, true);
      return { wabt, source: cacheAccepted ? 'derived+cache' : 'derived' };
    } catch {
      // fall through: require('wabt') is always right, only slower
    }
  }
  // CommonJS: require() skips the scan for named exports an ES import runs over its source.
  return { wabt: await (require('wabt') as typeof wabtInit)(), source: 'require' };
}

let loading: Promise<{ wabt: WabtApi; source: WabtSource }> | undefined;

/** Loads wabt once per process, from the derived copy when there is a usable one. */
export function loadWabt(): Promise<{ wabt: WabtApi; source: WabtSource }> {
  return (loading ??= load());
}

/** For scripts/derive-wabt.mjs: loads the derived copy without a cache, validates a module, and writes V8's code cache of the JS. */
export async function writeWabtCodeCache(): Promise<void> {
  const copy = derivedCopy();
  if (!copy) throw new Error('no derived wabt to make a code cache for');
  const { wabt, script } = await loadDerived(copy, false);
  // A first validation, so that the functions every compile calls are compiled into the cache too.
  const mod = wabt.readWasm(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), { readDebugNames: false });
  mod.validate();
  mod.destroy();
  writeFileSync(file('wabt.v8cache'), script.createCachedData());
}
