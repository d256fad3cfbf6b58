// `bpf2wasm run prog.wasm --iface IF`: the live datapath. Runs until SIGINT/SIGTERM (or
// --duration, or the end of a --pcap capture), printing a stats line per interval, then
// tears everything down and prints the totals. --records prints what the program sends
// through ring buffers and perf event arrays, one JSON line per record, as it comes.

import type { Argv } from 'yargs';
import { UserError } from '../core/errors.js';
import type { LiveMode } from '../datapath/protocol.js';
import type { MapTable } from '../runtime/maps/index.js';
import { MODULE_POSITIONAL, option, options, type SharedArgs } from './options.js';
import type { XskStatistics } from '../native/addon.js';

interface RunArgs extends SharedArgs {
  module: string;
  iface?: string;
  queues?: number;
  mode: LiveMode;
  'bind-mode': 'auto' | 'copy' | 'zerocopy';
  'xdp-mode': 'auto' | 'native' | 'generic';
  pass: 'tap' | 'drop';
  frames: number;
  katran: boolean;
  grpc?: string;
  'lru-size'?: number;
  'stats-interval': number;
  duration?: number;
  pin: boolean;
  control?: string;
  records: boolean;
}

/** How often --records reads the ring buffers and perf event arrays. */
const RECORDS_POLL_MS = 100;

const print = (line: string): void => void process.stdout.write(`${line}\n`);

async function runCommand(args: RunArgs): Promise<void> {
  if ((args['katran-config'] || args.grpc || args['lru-size'] !== undefined) && !args.katran) {
    throw new UserError('--katran-config, --grpc and --lru-size need --katran');
  }
  if (args.duration !== undefined && !(args.duration > 0))
    throw new UserError(`--duration must be a positive number of seconds, got ${args.duration}`);
  const [{ LiveRun }, { defaultControlPath }, { readModuleFile }] = await Promise.all([
    import('../datapath/runner.js'),
    import('../datapath/control.js'),
    import('./module-file.js'),
  ]);
  const run = await LiveRun.start({
    wasm: await readModuleFile(args.module, args['max-cpus']),
    label: args.module,
    mode: args.mode,
    iface: args.iface,
    queues: args.queues,
    program: args.program,
    engine: args.engine,
    budget: args.budget,
    preciseClock: args['precise-clock'],
    bindMode: args['bind-mode'],
    xdpMode: args['xdp-mode'],
    pass: args.pass,
    frames: args.frames,
    pcap: args.pcap,
    out: args.out,
    updates: args.update,
    katran: args.katran ? { configPath: args['katran-config'], grpc: args.grpc, lruSize: args['lru-size'] } : undefined,
    pin: args.pin,
    control: args.mode === 'pcap' || !args.iface ? args.control : (args.control ?? defaultControlPath(args.iface)),
    statsIntervalMs: args['stats-interval'] * 1000,
    log: print,
  });
  let records: { stop(): void } | undefined;
  try {
    records = args.records ? await recordPrinter(run.machine.maps) : undefined;
  } catch (e) {
    await run.stop();
    throw e;
  }
  const where = args.mode === 'pcap' ? args.pcap : `${args.iface} (${args.mode}${run.attachMode ? `, XDP ${run.attachMode}` : ''})`;
  const binding = run.bindings
    .map((b, i) => `w${i}${b.zeroCopy ? ' zero-copy' : args.mode === 'afxdp' ? ' copy' : ''}${b.affinity ? ` cpu ${i}` : ''}`)
    .join(', ');
  const control = run.options.control ? `; maps: bpf2wasm map dump ${run.options.control} MAP` : '';
  print(
    `running ${run.options.program} on ${where}: ${binding}${run.katran?.grpc ? `; katran gRPC on port ${run.katran.grpc.port}` : ''}${control}`,
  );
  const stop = (): void => void run.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer = args.duration ? setTimeout(stop, args.duration * 1000) : undefined;
  try {
    await run.finished;
  } finally {
    records?.stop();
    if (timer) clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  const t = run.totals();
  // Faults are among the XDP_ABORTED packets; said apart so that a crashing program shows.
  const faults = t.faults ? `; faults ${t.faults}` : '';
  // Redirected frames no target took (a second program's verdict, a full cpumap queue, an xskmap).
  const redirectDropped = t.redirectDropped ? `; redirect dropped ${t.redirectDropped}` : '';
  print(
    `total: ${t.total} packets; ${
      Object.entries(t.packets)
        .filter(([, n]) => n > 0)
        .map(([a, n]) => `${a} ${n}`)
        .join(', ') || 'none'
    }${faults}${redirectDropped}`,
  );
  // Every UMEM frame should be back in the fill ring once traffic stops: a lost frame shows here.
  const sockets = run.socketStatistics();
  if (args.mode === 'afxdp' && sockets.every((s) => s)) {
    print(
      `umem: ${sockets
        .map(
          (s, i) =>
            `w${i} fill ${s!.fillQueued} + rx ${s!.rxQueued} + tx ${s!.txQueued} + completion ${s!.completionQueued} + held ${s!.held} = ${s!.fillQueued + s!.rxQueued + s!.txQueued + s!.completionQueued + s!.held}/${s!.frames} frames, ${s!.rxDropped} rx dropped, ${s!.rxRingFull} rx ring full, ${s!.txDropped + s!.txInvalidDescriptors} tx lost${auditNote(s!)}`,
        )
        .join('; ')}`,
    );
  }
}

/**
 * Prints every record the object's ring buffers and perf event arrays receive, one JSON
 * line each (runtime/map-records.ts), polling while the run lasts; stop() prints the rest.
 */
async function recordPrinter(maps: MapTable): Promise<{ stop(): void }> {
  const { RecordReader } = await import('../runtime/map-records.js');
  const reader = new RecordReader(maps);
  if (!reader.any) throw new UserError('--records: the module has no ring buffer or perf event array');
  const drain = (): void => {
    for (const r of reader.drain()) print(JSON.stringify(r));
  };
  const timer = setInterval(drain, RECORDS_POLL_MS);
  return {
    stop: () => {
      clearInterval(timer);
      drain();
    },
  };
}

export function registerRun<T>(y: Argv<T>): Argv<T> {
  return y.command(
    'run <module>',
    'run an XDP program on live packets (AF_XDP, AF_PACKET) or a capture, one worker per queue',
    (c) =>
      c
        .positional('module', MODULE_POSITIONAL)
        .options({
          ...options('program', 'engine', 'budget', 'precise-clock', 'update', 'max-cpus'),
          pcap: option('pcap', { describe: '--mode pcap: input capture' }),
          out: option('out', {
            describe:
              '--mode pcap: write what leaves through the receiving device here (other destinations beside it: OUT.if<N>.pcap, OUT.cpu<K>.pcap)',
          }),
          'katran-config': option('katran-config', { describe: 'katran JSON config applied at start (docs/katran-config.md)' }),
        })
        .option('iface', { alias: 'i', type: 'string', describe: 'interface to serve' })
        .option('queues', { type: 'number', describe: "RX queues (workers); default: all of the interface's" })
        .option('mode', {
          choices: ['afxdp', 'afpacket', 'pcap'] as const,
          default: 'afxdp' as LiveMode,
          describe: 'where packets come from',
        })
        .option('bind-mode', { choices: ['auto', 'copy', 'zerocopy'] as const, default: 'auto' as const, describe: 'AF_XDP bind mode' })
        .option('xdp-mode', {
          choices: ['auto', 'native', 'generic'] as const,
          default: 'auto' as const,
          describe: 'how the prefilter attaches',
        })
        .option('pass', {
          choices: ['tap', 'drop'] as const,
          default: 'tap' as const,
          describe: 'AF_XDP: XDP_PASS frames re-enter the kernel through a TAP device, or are dropped',
        })
        .option('frames', { type: 'number', default: 4096, describe: 'UMEM frames per queue (power of two)' })
        .option('katran', { type: 'boolean', default: false, describe: 'attach the katran control plane' })
        .option('grpc', { type: 'string', describe: "serve katran's gRPC API on host:port" })
        .option('lru-size', { type: 'number', describe: 'katran: LRU entries over all workers (default 100000)' })
        .option('stats-interval', { type: 'number', default: 1, describe: 'seconds between stats lines (0 = none)' })
        .option('duration', { type: 'number', describe: 'stop after this many seconds' })
        .option('pin', { type: 'boolean', default: true, describe: 'pin worker i to CPU i' })
        .option('records', {
          type: 'boolean',
          default: false,
          describe: 'print ring buffer and perf event records as they come, one JSON line each',
        })
        .option('control', {
          type: 'string',
          describe: 'control socket for `bpf2wasm map` (default /run/bpf2wasm/[<netns>/]<iface>.sock)',
        }),
    (argv) => runCommand(argv as unknown as RunArgs),
  ) as unknown as Argv<T>;
}

const hexList = (offsets: number[]): string => offsets.map((o) => `0x${o.toString(16)}`).join(' ') || 'none';

/**
 * Which frames were on no ring, or on two, when the audit found any (their UMEM offsets).
 * A worker's final statistics carry the audit; without one these are the last periodic
 * statistics, taken under traffic (TX in flight shows as frames on no ring), and say so.
 */
function auditNote(s: XskStatistics): string {
  if (!s.missing || !s.doubled) return ' (not a final account: the worker did not report at exit)';
  const { missing, doubled } = s;
  if (!missing.length && !doubled.length) return '';
  return ` (frames on no ring: ${hexList(missing.slice(0, 16))}; on two rings: ${hexList(doubled.slice(0, 16))})`;
}
