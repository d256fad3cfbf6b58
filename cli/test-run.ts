// `bpf2wasm test-run prog.wasm --pcap in.pcap`: BPF_PROG_TEST_RUN over a capture, in
// userspace. Prints one JSON object per packet with --json, else a summary by action;
// --out writes the resulting packets (dropped ones included, as the program left them);
// --dump-map prints a map's contents after the run, as `bpftool map dump` would.

import { readFileSync, writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { UserError } from '../core/errors.js';
import { readPcap, writePcap, type PcapRecord } from '../packets/pcap.js';
import { BpfMachine, DEFAULT_BUDGET, type Engine } from '../runtime/machine.js';
import { loadWasm } from '../runtime/program.js';
import { applyUpdates, mapCommand, registerMapCommand } from '../runtime/map-commands.js';
import { applyKatranConfig, parseKatranConfig } from '../katran/config.js';
import { UserspaceKatranMaps } from '../katran/maps/userspace-maps.js';
import { isControlSocket, queryInstance } from '../datapath/control.js';
import { readModuleFile } from './module-file.js';

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
  update?: string[];
  'katran-config'?: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function read(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function prepare(module: string, updates?: string[], katranConfig?: string): BpfMachine {
  // A compiled module, or an eBPF object compiled here on the spot.
  const machine = BpfMachine.create(loadWasm(readModuleFile(module), module));
  if (katranConfig) {
    const config = parseKatranConfig(new TextDecoder().decode(read(katranConfig)), katranConfig);
    applyKatranConfig(new UserspaceKatranMaps(machine.maps), config);
  }
  applyUpdates(machine, updates);
  return machine;
}

interface CaptureRun {
  program: string;
  packets: number;
  out: PcapRecord[];
  counts: Map<string, number>;
  /** One JSON-ready object per packet. */
  lines: Record<string, unknown>[];
  repeatedNs: bigint;
  /** Packets whose run faulted (the last run of each, as for the actions). */
  faults: number;
}

/** Run a capture through the program (each packet `repeat` times); nothing printed. */
function runCapture(machine: BpfMachine, args: Pick<TestRunArgs, 'pcap' | 'program' | 'cpu' | 'engine' | 'budget' | 'repeat'>): CaptureRun {
  if (!Number.isInteger(args.repeat) || args.repeat < 1) throw new UserError(`--repeat must be a positive integer, got ${args.repeat}`);
  const program = machine.program(args.program).name;
  const worker = machine.worker(args.cpu, { engine: args.engine, budget: args.budget });
  const records = readPcap(read(args.pcap), args.pcap);
  const run: CaptureRun = { program, packets: records.length, out: [], counts: new Map(), lines: [], repeatedNs: 0n, faults: 0 };
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
      run.repeatedNs += process.hrtime.bigint() - start;
    }
    run.counts.set(result.actionName, (run.counts.get(result.actionName) ?? 0) + 1);
    run.out.push({ timestampNs: record.timestampNs, originalLength: result.packet.length, data: result.packet.slice() });
    const line: Record<string, unknown> = { index, action: result.actionName, len: result.packet.length, data: hex(result.packet) };
    if (result.fault) {
      line.fault = result.fault;
      run.faults++;
    }
    run.lines.push(line);
  });
  return run;
}

export function testRun(args: TestRunArgs): void {
  const machine = prepare(args.module, args.update, args['katran-config']);
  const run = runCapture(machine, args);
  if (args.out) writeFileSync(args.out, writePcap(run.out));
  const print = (text: string): void => void process.stdout.write(text + '\n');
  if (args.json) {
    for (const line of run.lines) print(JSON.stringify(line));
  } else {
    print(`${run.packets} packets through ${run.program} (${args.engine})`);
    for (const [name, n] of [...run.counts].sort()) print(`  ${name.padEnd(13)} ${n}`);
    if (run.faults) print(`  ${'faults'.padEnd(13)} ${run.faults} (among XDP_ABORTED; --json names each)`);
    if (args.repeat > 1 && run.packets) {
      const runs = BigInt(run.packets * (args.repeat - 1));
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
        .positional('module', { type: 'string', demandOption: true, describe: 'module compiled by bpf2wasm, or an eBPF object to compile' })
        .option('pcap', { type: 'string', demandOption: true, describe: 'input capture (Ethernet, pcap format)' })
        .option('out', { type: 'string', describe: 'write the resulting packets to this pcap' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object per packet: index, action, len, data' })
        .option('repeat', { type: 'number', default: 1, describe: 'run each packet N times and report ns per packet' })
        .option('program', { alias: 'p', type: 'string', describe: 'program name or section (default: the first)' })
        .option('engine', { choices: ['wasm', 'interp'] as const, default: 'wasm' as Engine, describe: 'compiled module or reference interpreter' })
        .option('cpu', { type: 'number', default: 0, describe: 'CPU number seen by the program' })
        .option('budget', { type: 'number', default: DEFAULT_BUDGET, describe: 'back-edges per packet before it is aborted (0 = unlimited)' })
        .option('dump-map', { type: 'string', array: true, describe: 'print this map after the run; repeatable' })
        .option('update', { type: 'string', array: true, describe: 'MAP=KEYHEX:VALUEHEX applied before the run; repeatable' })
        .option('katran-config', { type: 'string', describe: 'provision katran-layout maps from this JSON config (docs/katran-config.md)' }),
    (argv) => testRun(argv as unknown as TestRunArgs),
  ) as unknown as Argv<T>;
}

/**
 * `bpf2wasm map ...`: the map commands over a test run's state (cli-map.ts), or over a
 * running instance when the module argument is its control socket.
 */
export function registerMap<T>(y: Argv<T>): Argv<T> {
  return registerMapCommand(y, async (args) => {
    if (isControlSocket(args.module)) {
      for (const line of await queryInstance(args.module, { op: args.op, map: args.map, key: args.key, value: args.value })) {
        process.stdout.write(line + '\n');
      }
      return;
    }
    const machine = prepare(args.module, args.update, args['katran-config']);
    if (args.pcap) runCapture(machine, { pcap: args.pcap, program: args.program, cpu: 0, engine: 'wasm', budget: DEFAULT_BUDGET, repeat: 1 });
    for (const line of mapCommand(machine, args.op, args.map, args.key, args.value)) process.stdout.write(line + '\n');
  });
}
