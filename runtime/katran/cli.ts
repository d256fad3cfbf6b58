#!/usr/bin/env node
// katran-cli: katran's Go example client, flag for flag, speaking KatranService over gRPC
// to a bpf2wasm katran server (or katran's own). Output follows the Go client's format
// (KATRAN.md §5), so katran's EXAMPLE walkthrough reads the same. Flags are Go style:
// one dash, long names (`-server`, `-lru`). Our extension: `-n COUNT` stops the stats
// loops after COUNT one-second samples.

import * as grpc from '@grpc/grpc-js';
import { loadKatranProto } from './grpc-server.js';

const BOOL_FLAGS = new Set(['A', 'E', 'D', 'a', 'e', 'd', 'l', 's', 'lru', 'sum', 'icmp', 'list_mac', 'unset', 'C', 'list_qm', 'del_qm', 'list_hc', 'del_hc']);
const VALUE_FLAGS = new Set(['t', 'u', 'r', 'w', 'vf', 'rf', 'server', 'change_mac', 'n', 'quic_mapping', 'new_hc', 'somark']);
const VIP_FLAGS: Record<string, number> = { NO_SPORT: 1, NO_LRU: 2, QUIC_VIP: 4, DPORT_HASH: 8, LOCAL_VIP: 32 };
const FLAG_WORDS: [number, string][] = [[1, ' NO_SPORT '], [2, ' NO_LRU '], [4, ' QUIC_VIP '], [8, ' DPORT_HASH '], [32, ' LOCAL_VIP ']];

class CliError extends Error {}

type Flags = Map<string, string | true>;

export function parseFlags(argv: string[]): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const m = argv[i].match(/^--?([A-Za-z_]+)(?:=(.*))?$/);
    if (!m) throw new CliError(`unexpected argument '${argv[i]}'`);
    const [, name, inline] = m;
    if (BOOL_FLAGS.has(name)) flags.set(name, true);
    else if (VALUE_FLAGS.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new CliError(`flag needs an argument: -${name}`);
      flags.set(name, value);
    } else throw new CliError(`flag provided but not defined: -${name}`);
  }
  return flags;
}

/** `addr:port` or `[v6]:port` → the Vip message. */
export function parseService(text: string, protocol: number): { address: string; port: number; protocol: number } {
  const m = text.match(/^\[([^\]]+)\]:(\d+)$/) ?? text.match(/^([^:]+):(\d+)$/);
  if (!m) throw new CliError(`malformed service '${text}': expected addr:port or [v6addr]:port`);
  const port = Number(m[2]);
  if (port > 65535) throw new CliError(`port ${port} out of range in '${text}'`);
  return { address: m[1], port, protocol };
}

const pad = (s: string | number, width: number): string => String(s).padStart(width);
const goTime = (): string => {
  const d = new Date();
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${two(d.getMonth() + 1)}/${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
};
const log = (line: string): void => void process.stdout.write(`${goTime()} ${line}\n`);
const print = (line: string): void => void process.stdout.write(`${line}\n`);

type Callback = (err: grpc.ServiceError | null, reply: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
type Client = grpc.Client & Record<string, (req: unknown, cb: Callback) => void>;

function connect(server: string): (method: string, request: unknown) => Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const pkg = (loadKatranProto().lb as grpc.GrpcObject).katran as grpc.GrpcObject;
  const Service = pkg.KatranService as grpc.ServiceClientConstructor;
  const client = new Service(server, grpc.credentials.createInsecure()) as unknown as Client;
  return (method, request) =>
    new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + 5000);
      const withOptions = client[method] as unknown as (req: unknown, options: grpc.CallOptions, cb: Callback) => void;
      withOptions.call(client, request, { deadline }, (err, reply) => {
        if (!err) return resolve(reply);
        const unreachable = err.code === grpc.status.DEADLINE_EXCEEDED || err.code === grpc.status.UNAVAILABLE;
        reject(new CliError(`${method}: ${unreachable ? `cannot reach ${server}` : err.details || err.message}`));
      });
    });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function main(argv: string[]): Promise<number> {
  try {
    const f = parseFlags(argv);
    const call = connect((f.get('server') as string) ?? '127.0.0.1:50051');
    const service = (): { address: string; port: number; protocol: number } => {
      if (f.has('t')) return parseService(f.get('t') as string, 6);
      if (f.has('u')) return parseService(f.get('u') as string, 17);
      throw new CliError('a service is needed: -t addr:port (TCP) or -u addr:port (UDP)');
    };
    const samples = f.has('n') ? Number(f.get('n')) : Infinity;
    if (f.has('change_mac')) {
      await call('changeMac', { mac: f.get('change_mac') });
    } else if (f.has('list_mac')) {
      print(`MAC address is: ${(await call('getMac', {})).mac}`);
    } else if (f.has('A')) {
      const flags = f.has('vf') ? (VIP_FLAGS[f.get('vf') as string] ?? badFlag(f.get('vf') as string)) : 0;
      await call('addVip', { vip: service(), flags, setFlag: false });
    } else if (f.has('l')) {
      await list(call);
    } else if (f.has('D')) {
      await call('delVip', service());
    } else if (f.has('E')) {
      const name = f.get('vf') as string | undefined;
      if (!name) throw new CliError('-E needs -vf FLAG');
      await call('modifyVip', { vip: service(), flags: VIP_FLAGS[name] ?? badFlag(name), setFlag: !f.has('unset') });
    } else if (f.has('a') || f.has('e') || f.has('d')) {
      const real = { address: (f.get('r') as string) ?? '', weight: Number(f.get('w') ?? 1), flags: f.get('rf') === 'LOCAL_REAL' ? 2 : 0 };
      if (!Number.isInteger(real.weight) || real.weight < 0) throw new CliError(`bad weight '${f.get('w')}'`);
      await call('modifyRealsForVip', { action: f.has('d') ? 1 : 0, vip: service(), real: { reals: [real] } });
    } else if (f.has('quic_mapping')) {
      // -quic_mapping addr=id, with -del_qm to delete instead of add.
      const m = (f.get('quic_mapping') as string).match(/^(.+)=(\d+)$/);
      if (!m) throw new CliError(`malformed quic mapping '${f.get('quic_mapping')}': expected addr=id`);
      await call('modifyQuicRealsMapping', { action: f.has('del_qm') ? 1 : 0, reals: { qreals: [{ address: m[1], id: Number(m[2]) }] } });
    } else if (f.has('list_qm')) {
      for (const q of (await call('getQuicRealsMapping', {})).qreals as { address: string; id: number }[]) print(`real: ${q.address} id: ${q.id}`);
    } else if (f.has('C')) {
      for (const vip of (await call('getAllVips', {})).vips) await call('delVip', vip);
    } else if (f.has('new_hc') || f.has('del_hc') || f.has('list_hc')) {
      const somark = Number(f.get('somark') ?? 0);
      if (f.has('new_hc')) await call('addHealthcheckerDst', { somark, address: f.get('new_hc') });
      else if (f.has('del_hc')) await call('delHealthcheckerDst', { somark });
      else await call('getHealthcheckersDst', {});
    } else if (f.has('s')) {
      await statsLoop(call, f, samples);
    }
    log('exiting');
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`katran-cli: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`katran-cli: internal error: ${(e as Error)?.stack ?? e}\n`);
    return 2;
  }
}

function badFlag(name: string): never {
  throw new CliError(`unknown VIP flag '${name}' (known: ${Object.keys(VIP_FLAGS).join(', ')})`);
}

async function list(call: ReturnType<typeof connect>): Promise<void> {
  const vips = (await call('getAllVips', {})).vips as { address: string; port: number; protocol: number }[];
  log(`vips len ${vips.length}`);
  for (const vip of vips) {
    print(`VIP: ${pad(vip.address, 20)} Port: ${pad(vip.port, 6)} Protocol: ${vip.protocol === 6 ? 'tcp' : 'udp'}`);
    const flags = BigInt((await call('getVipFlags', vip)).flags);
    print(`Vip's flags: ${FLAG_WORDS.filter(([bit]) => (flags & BigInt(bit)) !== 0n).map(([, w]) => w).join('')}`);
    const reals = (await call('getRealsForVip', vip)).reals as { address: string; weight: number; flags: number }[];
    for (const r of reals) print(`${` ->${r.address}`.padEnd(20)} weight: ${r.weight} flags: ${r.flags & 2 ? ' LOCAL_REAL ' : ''}`);
  }
}

async function statsLoop(call: ReturnType<typeof connect>, f: Flags, samples: number): Promise<void> {
  let previous: Record<string, [bigint, bigint]> = {};
  const delta = (key: string, s: { v1: string; v2: string }): [bigint, bigint] => {
    const now: [bigint, bigint] = [BigInt(s.v1), BigInt(s.v2)];
    const before = previous[key] ?? [0n, 0n];
    previous[key] = now;
    return [now[0] - before[0], now[1] - before[1]];
  };
  for (let n = 0; n < samples; n++) {
    if (n > 0) await sleep(1000);
    if (f.has('icmp')) {
      const [v4, v6] = delta('icmp', await call('getIcmpTooBigStats', {}));
      print(`ICMP "packet too big": v4 ${v4} pkts/sec v6: ${v6} pkts/sec`);
    } else if (f.has('lru')) {
      const [t, m] = delta('lru', await call('getLruStats', {}));
      const [s, ns] = delta('miss', await call('getLruMissStats', {}));
      const [fb] = delta('fallback', await call('getLruFallbackStats', {}));
      const ratio = (x: bigint): number => (t === 0n ? 0 : Number(x) / Number(t));
      const miss = ratio(m);
      const hit = t === 0n ? 0 : 1 - miss;
      const syn = ratio(s);
      const nonsyn = ratio(ns);
      const udp = t === 0n ? 0 : 1 - (syn + nonsyn);
      // As katran's client prints it: hit/miss as percentages, the split as plain ratios.
      print(`summary: ${t} pkts/sec. lru hit: ${(hit * 100).toFixed(2)}% lru miss: ${(miss * 100).toFixed(2)}% ` +
        `(tcp syn: ${syn.toFixed(2)}% tcp non-syn: ${nonsyn.toFixed(2)}% udp: ${udp.toFixed(2)}%) fallback lru hit: ${fb} pkts/sec`);
    } else {
      const vips = (await call('getAllVips', {})).vips as { address: string; port: number; protocol: number }[];
      let pkts = 0n;
      let bytes = 0n;
      for (const vip of vips) {
        const [p, b] = delta(`${vip.address}:${vip.port}:${vip.protocol}`, await call('getStatsForVip', vip));
        pkts += p;
        bytes += b;
        if (!f.has('sum')) print(`vip: ${pad(`${vip.address}:${vip.port}:${vip.protocol}`, 16)} : ${pad(String(p), 8)} pkts/sec ${pad(String(b), 8)} bytes/sec`);
      }
      if (f.has('sum')) print(`summary: ${pkts} pkts/sec ${bytes} bytes/sec`);
    }
  }
}

const code = await main(process.argv.slice(2));
process.exit(code);
