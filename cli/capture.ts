// The state `test-run` and `map` work on: a machine for the module (provisioned by
// --katran-config, then --update), and a capture run through one of its programs, one
// result per packet. Loaded by those commands' handlers, never by --help.

import { UserError } from '../core/errors.js';
import { readInputFile, readInputText } from '../core/files.js';
import { readPcap, type PcapRecord } from '../packets/pcap.js';
import { BpfMachine, type Engine, type XdpResult } from '../runtime/machine.js';
import { loadWasm } from '../runtime/program.js';
import { compileOptimised } from '../runtime/tier.js';
import { applyUpdates } from '../runtime/map-commands.js';
import { setDeviceExists } from '../runtime/maps/redirect-value.js';
import { readModuleFile } from './module-file.js';
import type { RouteTables } from '../core/route-tables.js';
import { HELPER_ID } from '../core/helper-ids.js';
import { MAP_TYPE } from '../core/map-types.js';
import { RecordReader, type MapRecord } from '../runtime/map-records.js';

export interface MachineSource {
  module: string;
  'max-cpus'?: number;
  update?: string[];
  'katran-config'?: string;
}

export async function prepareMachine(args: MachineSource): Promise<BpfMachine> {
  const wasm = await readModuleFile(args.module, args['max-cpus']); // compiles an object on the baseline tier
  compileOptimised(); // the module itself: TurboFan before the first packet
  const machine = BpfMachine.create(loadWasm(wasm, args.module));
  await checkDevicesIfDevmap(machine);
  const configPath = args['katran-config'];
  if (configPath) {
    // katran's control plane (hashing, maglev rings) loads only for a config.
    const [{ applyKatranConfig, parseKatranConfig }, { UserspaceKatranMaps }] = await Promise.all([
      import('../katran/config.js'),
      import('../katran/maps/userspace-maps.js'),
    ]);
    applyKatranConfig(new UserspaceKatranMaps(machine.maps), parseKatranConfig(readInputText(configPath), configPath));
  }
  applyUpdates(machine, args.update);
  return machine;
}

/** Devmap updates check their ifindex against the host's devices (native/devices.ts), when the addon is built. */
async function checkDevicesIfDevmap(machine: BpfMachine): Promise<void> {
  const devmap = machine.manifest.maps.some((m) => m.type === MAP_TYPE.DEVMAP || m.type === MAP_TYPE.DEVMAP_HASH);
  if (devmap) setDeviceExists((await import('../native/devices.js')).hostDeviceExists()); // the addon only then
}

export interface CaptureRun {
  program: string;
  packets: number;
  /** The resulting packets, one per packet the program ran on. */
  out: PcapRecord[];
  /** Packets by action; a packet the kernel's test run would refuse counts as EINVAL. */
  counts: Map<string, number>;
  /** One JSON-ready object per packet. */
  lines: Record<string, unknown>[];
  /** Packets whose run faulted (the last run of each, as for the actions). */
  faults: number;
  repeatedNs: bigint;
  /** Ring buffer and perf event records by map: how many, and perf samples lost. */
  records: Map<string, { records: number; lost: number }>;
}

export interface CaptureOptions {
  pcap: string;
  program?: string;
  cpu: number;
  engine: Engine;
  budget: number;
  repeat: number;
  'precise-clock'?: boolean;
  /** The host's tables for bpf_fib_lookup (routeTablesIfUsed). */
  routeTables?: RouteTables;
}

/**
 * The host's routing tables when the module calls bpf_fib_lookup, else undefined: only
 * then is the native addon loaded (test-run of other modules stays without it).
 */
export async function routeTablesIfUsed(machine: BpfMachine): Promise<RouteTables | undefined> {
  if (!machine.manifest.helpers.includes(HELPER_ID.fib_lookup)) return undefined;
  return (await import('../native/fib.js')).hostRouteTables();
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The capture's records; a warning about the file (one line) goes to stderr. */
function readCapture(path: string): PcapRecord[] {
  return readPcap(readInputFile(path), path, (message) => void process.stderr.write(`bpf2wasm: warning: ${message}\n`));
}

/**
 * Run a capture through the program (each packet `repeat` times); nothing printed. A
 * packet BPF_PROG_TEST_RUN refuses (shorter than an Ethernet header, or too long for a
 * frame and its fragments) gets an error, as the kernel's EINVAL, and the run goes on.
 */
export function runCapture(machine: BpfMachine, args: CaptureOptions): CaptureRun {
  if (!Number.isInteger(args.repeat) || args.repeat < 1) throw new UserError(`--repeat must be a positive integer, got ${args.repeat}`);
  const program = machine.program(args.program).name;
  const worker = machine.worker(args.cpu, {
    engine: args.engine,
    budget: args.budget,
    preciseClock: args['precise-clock'],
    routeTables: args.routeTables,
  });
  const records = readCapture(args.pcap);
  const run: CaptureRun = {
    program,
    packets: records.length,
    out: [],
    counts: new Map(),
    lines: [],
    repeatedNs: 0n,
    faults: 0,
    records: new Map(),
  };
  const count = (what: string): void => void run.counts.set(what, (run.counts.get(what) ?? 0) + 1);
  // Records a packet's run sent (ring buffers, perf event arrays), drained after it.
  const reader = new RecordReader(machine.maps);
  const sent = (): MapRecord[] => {
    const got = reader.drain();
    for (const r of got) {
      const tally = run.records.get(r.map) ?? { records: 0, lost: 0 };
      if ('lost' in r) tally.lost += r.lost;
      else tally.records++;
      run.records.set(r.map, tally);
    }
    return got;
  };
  const record = (index: number, result: XdpResult | UserError): void => {
    const input = records[index]!;
    const mapRecords = sent();
    if (result instanceof UserError) {
      count('EINVAL');
      run.lines.push({ index, len: input.data.length, error: `EINVAL: ${result.message}` });
      return;
    }
    count(result.actionName);
    // As BPF_PROG_TEST_RUN's data_out: the metadata the program set, then the packet.
    const data = result.meta.length === 0 ? result.packet : Buffer.concat([result.meta, result.packet]);
    run.out.push({ timestampNs: input.timestampNs, originalLength: data.length, data });
    const line: Record<string, unknown> = { index, action: result.actionName, len: data.length, data: hex(data) };
    if (result.meta.length > 0) line.meta = result.meta.length;
    if (result.fault) {
      line.fault = result.fault;
      run.faults++;
    }
    if (mapRecords.length > 0) line.records = mapRecords;
    run.lines.push(line);
  };
  if (args.repeat === 1 && !reader.any) {
    // In batches, as the live datapath runs them (results are copies).
    worker
      .runPackets(
        program,
        records.map((r) => r.data),
      )
      .forEach((result, index) => record(index, result));
    return run;
  }
  // --repeat: each packet `repeat` times in a row, on single runs; the result is the last
  // run's (and the records all runs sent). Single runs too when the program sends records,
  // so that each packet's are told apart.
  records.forEach((input, index) => {
    let result: XdpResult;
    try {
      result = worker.runXdp(program, input.data);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      record(index, e);
      return;
    }
    const start = process.hrtime.bigint();
    for (let i = 1; i < args.repeat; i++) result = worker.runXdp(program, input.data);
    run.repeatedNs += process.hrtime.bigint() - start;
    record(index, { ...result, packet: result.packet.slice(), meta: result.meta.slice() });
  });
  return run;
}
