// Instantiating a compiled module: one shared memory per loaded object, one instance per
// worker over it, helpers bound by import name. Faults come back as BpfFault.

import {
  BATCH_SUFFIX,
  ENTRY32_SUFFIX,
  INIT_PRECISE_CLOCK,
  ENV_MODULE,
  FAULT_IMPORT,
  HELPER_MODULE,
  i32HelperSig,
  INIT_EXPORT,
  type MemoryLayout,
  MEMORY_IMPORT,
} from '../core/abi.js';
import type { Manifest } from '../core/manifest.js';
import { readManifest } from '../core/manifest.js';
import { UserError } from '../core/errors.js';
import { BpfFault, asFault } from './fault.js';
import type { HelperImports } from './interp.js';

export interface LoadedModule {
  module: WebAssembly.Module;
  manifest: Manifest;
  label: string;
}

export function loadWasm(bytes: Uint8Array, label: string): LoadedModule {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new UserError(`${label}: not a valid WebAssembly module (${(e as Error).message})`);
  }
  return { module, manifest: readManifest(module, label), label };
}

export function createMemory(layout: MemoryLayout): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: layout.initialPages, maximum: layout.maxPages, shared: true });
}

export interface InstanceOptions {
  cpu: number;
  stackTop: number;
  /** Back-edge budget per run; 0 = unlimited. */
  budget: number;
  /** The worker's XDP context block (abi.ts XDP_CTX); 0 when programs get no XDP context. */
  xdpCtx?: number;
  /** ktime_get_ns through the JS import on every call (INIT_PRECISE_CLOCK). */
  preciseClock?: boolean;
}

type Entry = (r1: number, r2: number) => bigint;
type Entry32 = (r1: number, r2: number) => number;
/** A program's batch driver: (descriptors, count), abi.ts BATCH_SUFFIX. */
export type BatchEntry = (descriptors: number, count: number) => void;

export class ProgramInstance {
  private readonly entries = new Map<string, Entry>();
  private readonly entries32 = new Map<string, Entry32>();

  constructor(
    readonly loaded: LoadedModule,
    readonly instance: WebAssembly.Instance,
  ) {
    for (const p of loaded.manifest.programs) {
      this.entries.set(p.name, instance.exports[p.export] as Entry);
      const narrow = instance.exports[`${p.export}${ENTRY32_SUFFIX}`] as Entry32 | undefined;
      if (narrow) this.entries32.set(p.name, narrow);
    }
  }

  /** The program's batch driver (abi.ts BATCH_SUFFIX); throws a UserError for an unknown name or an older module. */
  batch(name: string): BatchEntry {
    const exportName = this.loaded.manifest.programs.find((p) => p.name === name)?.export;
    const fn = exportName === undefined ? undefined : this.instance.exports[`${exportName}${BATCH_SUFFIX}`];
    if (typeof fn !== 'function') throw new UserError(`${this.loaded.label}: no batch entry for program '${name}' (recompile the module)`);
    return fn as BatchEntry;
  }

  /** Run a program for its low 32 bits of r0 (an XDP verdict): no BigInt on the way back. */
  run32(name: string, r1: number): number {
    const fn = this.entry32(name);
    try {
      return fn(r1);
    } catch (e) {
      throw asFault(e);
    }
  }

  /**
   * The program as a function of r1 returning r0's low 32 bits, unsigned; throws a
   * UserError for an unknown name. Calling it throws whatever the run throws, unwrapped.
   */
  entry32(name: string): (r1: number) => number {
    const fn = this.entries32.get(name);
    if (fn) return (r1) => fn(r1, 0) >>> 0;
    const wide = this.entry(name);
    return (r1) => Number(BigInt.asUintN(32, wide(r1, 0)));
  }

  entry(name: string): Entry {
    const fn = this.entries.get(name);
    if (!fn) {
      const known = [...this.entries.keys()].join(', ');
      throw new UserError(`${this.loaded.label}: no program '${name}' (programs: ${known})`);
    }
    return fn;
  }

  /** Run a program; a fault (budget, trap) is thrown as BpfFault. */
  run(name: string, r1: number, r2 = 0): bigint {
    const fn = this.entry(name);
    try {
      return BigInt.asUintN(64, fn(r1, r2));
    } catch (e) {
      throw asFault(e);
    }
  }
}

/** Number-based versions of the hot helpers (abi.ts I32_HELPERS), keyed by name. */
export type I32HelperImports = Record<string, (...args: number[]) => number>;

export function instantiate(
  loaded: LoadedModule,
  memory: WebAssembly.Memory,
  helpers: HelperImports,
  opts: InstanceOptions,
  i32Helpers: I32HelperImports = {},
): ProgramInstance {
  const helperImports: Record<string, (...a: never[]) => unknown> = {};
  for (const imp of WebAssembly.Module.imports(loaded.module)) {
    if (imp.module !== HELPER_MODULE) continue;
    const fn = helpers[imp.name];
    if (!fn) throw new UserError(`${loaded.label}: the program calls helper '${imp.name}', which this runtime does not provide`);
    if (i32HelperSig(imp.name)) {
      // Imported with i32 arguments and result: use the number-based version, or adapt.
      helperImports[imp.name] =
        i32Helpers[imp.name] ??
        ((...a: number[]) => Number(BigInt.asIntN(32, (fn as (...x: bigint[]) => bigint)(...a.map((x) => BigInt(x >>> 0))))));
    } else {
      helperImports[imp.name] = fn;
    }
  }
  const imports: WebAssembly.Imports = {
    [ENV_MODULE]: {
      [MEMORY_IMPORT]: memory,
      [FAULT_IMPORT]: (kind: number, pc: number): never => {
        throw new BpfFault(kind, pc);
      },
    },
    [HELPER_MODULE]: helperImports,
  };
  const instance = new WebAssembly.Instance(loaded.module, imports);
  (instance.exports[INIT_EXPORT] as (cpu: number, stackTop: number, budget: number, xdpCtx: number, flags: number) => void)(
    opts.cpu,
    opts.stackTop,
    opts.budget,
    opts.xdpCtx ?? 0,
    opts.preciseClock ? INIT_PRECISE_CLOCK : 0,
  );
  return new ProgramInstance(loaded, instance);
}
