// One datapath under test for bench/live-bench.ts, run inside the DUT's namespace: a
// LiveRun on an interface (AF_XDP, copy mode on veth) with the module or, for a ceiling
// row, the addon's C loop and no program. Prints `ready` once the workers are bound;
// on SIGINT stops and prints one JSON line of totals, socket statistics and the CPU
// time spent since ready.
//
//   node dist/bench/live-dut.js '{"module":"x.wasm","iface":"d0","queues":1}'

import { LiveRun } from '../datapath/runner.js';
import { readModuleFile } from '../cli/module-file.js';

interface DutSpec {
  module: string;
  iface: string;
  queues: number;
  program?: string;
  ceiling?: 'drop' | 'tx';
  katranConfig?: string;
  batch?: number;
}

const spec = JSON.parse(process.argv[2] ?? '') as DutSpec;
const run = await LiveRun.start({
  wasm: await readModuleFile(spec.module),
  label: spec.module,
  mode: 'afxdp',
  iface: spec.iface,
  queues: spec.queues,
  program: spec.program,
  pass: 'drop',
  katran: spec.katranConfig ? { configPath: spec.katranConfig, lruSize: 1000 } : undefined,
  ceiling: spec.ceiling,
  batch: spec.batch,
  statsIntervalMs: 0,
});
process.once('SIGINT', () => void run.stop());
// From here on the process is the worker at work (the main thread idles): its CPU time
// per frame is the datapath's cost, whatever else the shared machine runs.
const cpuAtReady = process.cpuUsage();
console.log(`ready ${run.bindings.map((b) => (b.zeroCopy ? 'zero-copy' : 'copy')).join(',')}`);
await run.finished;
const t = run.totals();
const cpu = process.cpuUsage(cpuAtReady);
console.log(
  JSON.stringify({
    cpuMs: (cpu.user + cpu.system) / 1000,
    packets: t.packets,
    total: t.total,
    txDropped: t.txDropped,
    perWorker: t.perWorker,
    sockets: run.socketStatistics(),
  }),
);
