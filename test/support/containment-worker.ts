// The worker side of test/runtime/containment.test.ts: attaches to a machine another
// thread created (same memory, same maps) and runs one frame on the compiled module as
// worker `cpu`, reporting the verdict and how long the run took.

import { parentPort, workerData } from 'node:worker_threads';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';

interface Job {
  wasm: Uint8Array;
  memory: WebAssembly.Memory;
  cpu: number;
  frame: Uint8Array;
}

const job = workerData as Job;
const machine = BpfMachine.attach(loadWasm(job.wasm, 'containment'), job.memory);
const worker = machine.worker(job.cpu);
const start = performance.now();
const result = worker.runXdp(machine.programs[0]!.name, job.frame);
parentPort!.postMessage({ action: result.actionName, fault: result.fault, ms: performance.now() - start });
