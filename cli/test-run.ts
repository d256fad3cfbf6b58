// `bpf2wasm test-run prog.wasm --pcap in.pcap`: BPF_PROG_TEST_RUN over a capture, in
// userspace. Prints one JSON object per packet with --json, else a summary by action;
// --out writes the resulting packets (dropped ones included, as the program left them;
// metadata from bpf_xdp_adjust_meta in front, as the kernel's test run returns them);
// --dump-map prints a map's contents after the run, as `bpftool map dump` would. A packet
// the kernel would refuse (EINVAL) is reported as such and the run goes on. Records the
// program sends through ring buffers and perf event arrays are drained after each packet:
// --json lists them in its line (`records`: map, CPU for perf, bytes in hex, or a lost
// count), the summary counts them per map.

import type { Argv } from 'yargs';
import { MODULE_POSITIONAL, options, type SharedArgs } from './options.js';

interface TestRunArgs extends SharedArgs {
  module: string;
  pcap: string;
  repeat: number;
  cpu: number;
  'dump-map'?: string[];
}

async function testRun(args: TestRunArgs): Promise<void> {
  const [{ prepareMachine, routeTablesIfUsed, runCapture }, { writeOutputFile }, { writePcap }, { mapCommand }] = await Promise.all([
    import('./capture.js'),
    import('../core/files.js'),
    import('../packets/pcap.js'),
    import('../runtime/map-commands.js'),
  ]);
  const machine = await prepareMachine(args);
  const run = runCapture(machine, { ...args, routeTables: await routeTablesIfUsed(machine) });
  if (args.out) writeOutputFile(args.out, writePcap(run.out));
  const print = (text: string): void => void process.stdout.write(text + '\n');
  if (args.json) {
    for (const line of run.lines) print(JSON.stringify(line));
  } else {
    print(`${run.packets} packets through ${run.program} (${args.engine})`);
    for (const [name, n] of [...run.counts].sort()) print(`  ${name.padEnd(13)} ${n}`);
    if (run.faults) print(`  ${'faults'.padEnd(13)} ${run.faults} (among XDP_ABORTED; --json names each)`);
    for (const [map, { records, lost }] of run.records) {
      print(`  records of ${map}: ${records}${lost ? `, ${lost} lost` : ''} (--json lists them per packet)`);
    }
    if (args.repeat > 1 && run.out.length) {
      const runs = BigInt(run.out.length * (args.repeat - 1));
      print(`  ${Number(run.repeatedNs / runs).toFixed(0)} ns per packet over ${runs} repeated runs`);
    }
  }
  for (const name of args['dump-map'] ?? []) {
    for (const line of mapCommand(machine, 'dump', name)) print(`${name} ${line}`);
  }
}

export function registerTestRun<T>(y: Argv<T>): Argv<T> {
  return y.command(
    'test-run <module>',
    'run an XDP program of a compiled module over a pcap file (like BPF_PROG_TEST_RUN)',
    (c) =>
      c
        .positional('module', MODULE_POSITIONAL)
        .options(options('pcap', 'out', 'json', 'program', 'engine', 'budget', 'precise-clock', 'update', 'katran-config', 'max-cpus'))
        .demandOption('pcap')
        .option('repeat', { type: 'number', default: 1, describe: 'run each packet N times and report ns per packet' })
        .option('cpu', { type: 'number', default: 0, describe: 'CPU number seen by the program' })
        .option('dump-map', { type: 'string', array: true, describe: 'print this map after the run; repeatable' }),
    (argv) => testRun(argv as unknown as TestRunArgs),
  ) as unknown as Argv<T>;
}
