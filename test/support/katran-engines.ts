// One compiled object run two ways in userspace — compiled wasm and the reference
// interpreter, each on its own machine (maps) — on the kernel's clock: bpf_ktime_get_ns
// reads CLOCK_MONOTONIC, and so does process.hrtime.bigint() (libuv's uv_hrtime), so
// that time-dependent state (katran's UDP LRU atime, its new-connection rate window) is
// the same on both sides of a comparison with the kernel.

import { readFileSync } from 'node:fs';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm, type LoadedModule } from '../../runtime/program.js';
import { BpfMachine, type Engine } from '../../runtime/machine.js';

export const ENGINES = ['wasm', 'interp'] as const;

export interface EngineTwin {
  engine: Engine;
  machine: BpfMachine;
  worker: ReturnType<BpfMachine['worker']>;
}

/** Compiles `object` (an eBPF ELF file) once; `maxCpus` as --max-cpus (default: the compiler's). */
export function compileObjectFile(object: string, label: string, maxCpus?: number): LoadedModule {
  return loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object), maxCpus ? { maxCpus } : {}).wasm, label);
}

/** CLOCK_MONOTONIC in nanoseconds: the kernel's bpf_ktime_get_ns. */
export const monotonicClock = (): bigint => process.hrtime.bigint();

/** A machine and worker 0 per engine over `loaded`, on the kernel's clock (monotonicClock). */
export function engineTwins(loaded: LoadedModule): Record<(typeof ENGINES)[number], EngineTwin> {
  const clock = monotonicClock;
  const twin = (engine: (typeof ENGINES)[number]): EngineTwin => {
    const machine = BpfMachine.create(loaded);
    return { engine, machine, worker: machine.worker(0, { engine, clock }) };
  };
  return { wasm: twin('wasm'), interp: twin('interp') };
}
