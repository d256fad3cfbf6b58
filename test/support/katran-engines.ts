// One compiled object run two ways in userspace — compiled wasm and the reference
// interpreter, each on its own machine (maps) — with a fixed clock, as the tests that
// compare katran-layout objects with the kernel set them up.

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

/** Compiles `object` (an eBPF ELF file) once. */
export function compileObjectFile(object: string, label: string): LoadedModule {
  return loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, label);
}

/** A machine and worker 0 per engine over `loaded`, with the clock at one second. */
export function engineTwins(loaded: LoadedModule): Record<(typeof ENGINES)[number], EngineTwin> {
  const clock = (): bigint => 1_000_000_000n;
  const twin = (engine: (typeof ENGINES)[number]): EngineTwin => {
    const machine = BpfMachine.create(loaded);
    return { engine, machine, worker: machine.worker(0, { engine, clock }) };
  };
  return { wasm: twin('wasm'), interp: twin('interp') };
}
