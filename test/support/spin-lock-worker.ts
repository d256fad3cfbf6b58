// The worker side of test/runtime/spin-lock.test.ts: attaches to a machine another thread
// created (same memory, same maps), waits for the start flag, then runs the counter program
// `rounds` times as CPU `cpu`, so that two threads contend for the same value locks.

import { parentPort, workerData } from 'node:worker_threads';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';

interface Job {
  wasm: Uint8Array;
  memory: WebAssembly.Memory;
  cpu: number;
  rounds: number;
  startFlag: number;
  frame: Uint8Array;
}

const d = workerData as Job;
const machine = BpfMachine.attach(loadWasm(d.wasm, 'spin-lock worker'), d.memory);
const worker = machine.worker(d.cpu, { engine: 'wasm' });
Atomics.wait(new Int32Array(d.memory.buffer), d.startFlag >>> 2, 0);
let faults = 0;
for (let i = 0; i < d.rounds; i++) if (worker.runXdp('accept_counter', d.frame).fault) faults++;
parentPort!.postMessage(faults);
