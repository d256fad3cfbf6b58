// `bpf2wasm test-run prog.wasm --pcap in.pcap`: BPF_PROG_TEST_RUN over a capture, in
// userspace. Prints one JSON object per packet with --json, else a summary by action;
// --out writes the resulting packets (dropped ones included, as the program left them);
// --dump-map prints a map's contents after the run, as `bpftool map dump` would.

import { readFileSync, writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { UserError } from '../compiler/errors.js';
import { readPcap, writePcap, type PcapRecord } from './io/pcap.js';
import { BpfMachine, DEFAULT_BUDGET, type Engine } from './machine.js';
import { loadWasm } from './program.js';

interface TestRunArgs {
  module: string;
  pcap: string;
  out?: string;
  json: boolean;
  repeat: number;
  program?: string;
  engine: Engine;
  cpu: number;
  budget: number;
  'dump-map'?: string[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function read(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function testRun(args: TestRunArgs): void {
  if (!Number.isInteger(args.repeat) || args.repeat < 1) throw new UserError(`--repeat must be a positive integer, got ${args.repeat}`);
  const machine = BpfMachine.create(loadWasm(read(args.module), args.module));
  const program = machine.program(args.program).name;
  const worker = machine.worker(args.cpu, { engine: args.engine, budget: args.budget });
  const records = readPcap(read(args.pcap), args.pcap);
  const out: PcapRecord[] = [];
  const counts = new Map<string, number>();
  let elapsedNs = 0n;
  records.forEach((record, index) => {
    let result;
    try {
      result = worker.runXdp(program, record.data);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${args.pcap}: packet ${index}: ${e.message}`);
      throw e;
    }
    if (args.repeat > 1) {
      const start = process.hrtime.bigint();
      for (let i = 1; i < args.repeat; i++) result = worker.runXdp(program, record.data);
      elapsedNs += process.hrtime.bigint() - start;
    }
    counts.set(result.actionName, (counts.get(result.actionName) ?? 0) + 1);
    out.push({ timestampNs: record.timestampNs, originalLength: result.packet.length, data: result.packet.slice() });
    if (args.json) {
      const line: Record<string, unknown> = { index, action: result.actionName, len: result.packet.length, data: hex(result.packet) };
      if (result.fault) line.fault = result.fault;
      process.stdout.write(JSON.stringify(line) + '\n');
    }
  });
  if (args.out) writeFileSync(args.out, writePcap(out));
  if (!args.json) {
    process.stdout.write(`${records.length} packets through ${program} (${args.engine})\n`);
    for (const [name, n] of [...counts].sort()) process.stdout.write(`  ${name.padEnd(13)} ${n}\n`);
    if (args.repeat > 1 && records.length) {
      const runs = BigInt(records.length * (args.repeat - 1));
      process.stdout.write(`  ${(Number(elapsedNs / runs)).toFixed(0)} ns per packet over ${runs} repeated runs\n`);
    }
  }
  for (const name of args['dump-map'] ?? []) {
    const map = machine.maps.find(name);
    if (!map) throw new UserError(`no map '${name}' (maps: ${machine.manifest.maps.map((m) => m.name).join(', ')})`);
    for (const [key, value] of map.entries()) process.stdout.write(`${name} key ${hex(key)} value ${hex(value)}\n`);
  }
}

export function registerTestRun<T>(y: Argv<T>): Argv<T> {
  return y.command(
    'test-run <module>',
    'run an XDP program of a compiled module over a pcap file (like BPF_PROG_TEST_RUN)',
    (c) =>
      c
        .positional('module', { type: 'string', demandOption: true, describe: 'module compiled by bpf2wasm' })
        .option('pcap', { type: 'string', demandOption: true, describe: 'input capture (Ethernet, pcap format)' })
        .option('out', { type: 'string', describe: 'write the resulting packets to this pcap' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object per packet: index, action, len, data' })
        .option('repeat', { type: 'number', default: 1, describe: 'run each packet N times and report ns per packet' })
        .option('program', { alias: 'p', type: 'string', describe: 'program name or section (default: the first)' })
        .option('engine', { choices: ['wasm', 'interp'] as const, default: 'wasm' as Engine, describe: 'compiled module or reference interpreter' })
        .option('cpu', { type: 'number', default: 0, describe: 'CPU number seen by the program' })
        .option('budget', { type: 'number', default: DEFAULT_BUDGET, describe: 'back-edges per packet before it is aborted (0 = unlimited)' })
        .option('dump-map', { type: 'string', array: true, describe: 'print this map after the run; repeatable' }),
    (argv) => testRun(argv as unknown as TestRunArgs),
  ) as unknown as Argv<T>;
}
