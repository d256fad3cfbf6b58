// One eBPF fixture on every engine at hand behind one small interface: compiled wasm and
// the interpreter always, the kernel (BPF_PROG_TEST_RUN through the addon) when this
// machine has it. For tests whose expectations are derived by hand: each engine must meet
// them, and the kernel, where present, confirms that the hand derivation is the kernel's.

import { readFileSync } from 'node:fs';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import type { Missing } from './needs.js';
import { pinMainThread } from './cpus.js';
import { XDP_ACTION_NAME } from '../../runtime/xdp.js';
import { MapError } from '../../runtime/errors.js';
import { programIdOf } from '../../runtime/maps/redirect-value.js';

export interface EngineRun {
  actionName: string;
  packet: Uint8Array;
  fault?: string;
}

export type UpdateFlags = 'any' | 'noexist' | 'exist';
const FLAG_VALUE: Record<UpdateFlags, number> = { any: 0, noexist: 1, exist: 2 };

/** 'ok', or the errno name of the MapError `fn` throws. */
function answer(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof MapError) return e.errno;
    throw e;
  }
}

export interface FixtureEngine {
  readonly name: 'wasm' | 'interp' | 'kernel';
  set(map: string, key: Uint8Array, value: Uint8Array): void;
  get(map: string, key: Uint8Array): Uint8Array | undefined;
  /**
   * A control-plane update (the runtime's map API, the kernel's BPF_MAP_UPDATE_ELEM; one
   * value goes to every CPU of a per-CPU map): 'ok' or the refusal's errno name.
   */
  update(map: string, key: Uint8Array, value: Uint8Array, flags: UpdateFlags): string;
  /** A control-plane delete: 'ok' or the errno name. */
  remove(map: string, key: Uint8Array): string;
  /** Control-plane get_next_key: the key after `key` (the first without one), undefined after the last. */
  nextKey(map: string, key?: Uint8Array): Uint8Array | undefined;
  /** Every entry as hex key=value (per-CPU values concatenated, CPU 0 first), sorted. */
  dump(map: string): string[];
  /**
   * What a devmap or cpumap value's bpf_prog word takes to name program `name` (the
   * kernel: an fd), and what a lookup then reports there (the kernel: the program's id).
   */
  programRef(name: string): { fd: number; id: number };
  /** Runs `program` on `packet`; the result's packet is a copy. */
  run(program: string, packet: Uint8Array): EngineRun;
  close(): void;
  /** Set when this engine is not on this machine: its tests skip with this need. */
  readonly missing?: Missing;
}

function machineEngine(object: string, engine: 'wasm' | 'interp', maxCpus?: number): FixtureEngine {
  const compiled = compileObject(loadObject(new Uint8Array(readFileSync(object)), object), maxCpus ? { maxCpus } : {});
  const machine = BpfMachine.create(loadWasm(compiled.wasm, object));
  const worker = machine.worker(0, { engine });
  return {
    name: engine,
    set: (map, key, value) => machine.maps.byNameOrThrow(map).updateBytes(key, value),
    get: (map, key) => machine.maps.byNameOrThrow(map).lookupBytes(key)?.slice(),
    update: (map, key, value, flags) => answer(() => machine.maps.byNameOrThrow(map).updateBytes(key, value, FLAG_VALUE[flags])),
    remove: (map, key) => answer(() => machine.maps.byNameOrThrow(map).deleteBytes(key)),
    nextKey: (map, key) => machine.maps.byNameOrThrow(map).getNextKeyBytes(key)?.slice(),
    dump: (map) => [...machine.maps.byNameOrThrow(map).entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort(),
    programRef: (name) => {
      const p = machine.manifest.programs.find((x) => x.name === name);
      if (!p) throw new Error(`no program ${name}`);
      const id = programIdOf(p.tableIndex);
      return { fd: id, id };
    },
    run: (program, packet) => {
      const r = worker.runXdp(program, packet);
      return { actionName: r.actionName, packet: r.packet.slice(), ...(r.fault ? { fault: r.fault } : {}) };
    },
    close: () => {},
  };
}

function kernelEngine(object: string): FixtureEngine {
  // The kernel's per-CPU state (LRU lists) follows the calling CPU: keep it one, CPU 0,
  // the CPU the userspace engines run as (worker 0).
  const unpin = pinMainThread(0);
  const kernel = KernelObject.load(object);
  return {
    name: 'kernel',
    set: (map, key, value) => kernel.update(map, key, value),
    get: (map, key) => kernel.lookup(map, key)?.[0],
    update: (map, key, value, flags) => kernel.tryUpdate(map, key, value, flags) ?? 'ok',
    remove: (map, key) => (kernel.delete(map, key) ? 'ok' : 'ENOENT'),
    nextKey: (map, key) => kernel.nextKey(map, key),
    dump: (map) =>
      kernel
        .dump(map)
        .map(({ key, values }) => `${hex(key)}=${values.map(hex).join('')}`)
        .sort(),
    programRef: (name) => ({ fd: kernel.programFd(name), id: kernel.programId(name) }),
    run: (program, packet) => {
      const r = kernel.testRun(program, packet);
      return { actionName: XDP_ACTION_NAME[r.retval] ?? String(r.retval), packet: r.data };
    },
    close: () => {
      kernel.close();
      unpin();
    },
  };
}

/** The kernel's place in the list when this machine lacks it: every use is a skip. */
function absentKernel(missing: Missing): FixtureEngine {
  const absent = (): never => {
    throw new Error('the kernel engine is not available here; tests check `missing` first');
  };
  return {
    name: 'kernel',
    missing,
    set: absent,
    get: absent,
    update: absent,
    remove: absent,
    nextKey: absent,
    dump: absent,
    programRef: absent,
    run: absent,
    close: () => {},
  };
}

/**
 * wasm, the interpreter and (unless `kernel: false`) the kernel. Without the kernel its entry carries `missing`,
 * and each test on it calls skip(), so CI (REQUIRE_KERNEL=1) fails instead. The kernel runs
 * pinned to CPU 0 (until close()); `maxCpus` lays the userspace engines' maps out for that
 * many CPUs (cpus.ts possibleCpus() for per-CPU behaviour as the kernel's).
 */
export function fixtureEngines(object: string, { kernel = true, maxCpus }: { kernel?: boolean; maxCpus?: number } = {}): FixtureEngine[] {
  const userspace = [machineEngine(object, 'wasm', maxCpus), machineEngine(object, 'interp', maxCpus)];
  if (!kernel) return userspace;
  const missing = kernelMissing();
  return [...userspace, missing ? absentKernel(missing) : kernelEngine(object)];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export const u32le = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n >>> 0]).buffer);
export const s32le = (n: number): Uint8Array => new Uint8Array(new Int32Array([n]).buffer);
export const s64le = (n: bigint): Uint8Array => new Uint8Array(new BigInt64Array([n]).buffer);
export const readS64 = (b: Uint8Array | undefined): bigint | undefined =>
  b === undefined ? undefined : new DataView(b.buffer, b.byteOffset, b.byteLength).getBigInt64(0, true);
