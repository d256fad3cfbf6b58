// katran-cli: katran's Go example client (example_grpc/goclient), flag for flag, speaking
// KatranService over gRPC to a bpf2wasm katran server or katran's own. One command per
// run, chosen in the Go client's precedence order; output as the Go client prints it
// (KATRAN.md §5), ending with `exiting`.
//
// Differences, all on purpose: the Go client's `log` lines (timestamped) go to stdout
// here, not stderr, so stderr holds nothing but an error; every error — bad flags, a
// malformed address, a port out of range, a refused RPC, an unreachable server — is one
// line on stderr and exit status 1 (the Go client sometimes just logs and exits 0, or
// panics); `-n COUNT` stops the stats loops after COUNT one-second samples (katran's run
// until interrupted); `-C` on a server without health checking deletes the VIPs and
// skips the health checks instead of failing.

import { UserError } from '../../core/errors.js';
import { type FlagSpec, type FlagValues, FlagError, formatUsage, parseGoFlags } from './flags.js';
import {
  formatHealthcheck,
  formatIcmpStats,
  formatLruSummary,
  formatQuicMapping,
  formatSumStats,
  formatVipListing,
  formatVipStats,
  goLogPrefix,
  u64Delta,
} from './format.js';
import { KatranGrpcClient, KatranRpcError, type WireVip } from '../../katran/grpc/client.js';

const FLAGS: FlagSpec[] = [
  { name: 'A', kind: 'bool', usage: 'Add new virtual service' },
  { name: 'E', kind: 'bool', usage: 'Edit existing virtual service' },
  { name: 'D', kind: 'bool', usage: 'Delete existing virtual service' },
  { name: 'a', kind: 'bool', usage: 'Add real server' },
  { name: 'e', kind: 'bool', usage: 'Edit real server' },
  { name: 'd', kind: 'bool', usage: 'Delete real server' },
  { name: 't', kind: 'string', usage: 'Tcp service address. must be in format: <addr>:<port> ([<v6addr>]:<port>)' },
  { name: 'u', kind: 'string', usage: 'Udp service addr. must be in format: <addr>:<port> ([<v6addr>]:<port>)' },
  { name: 'r', kind: 'string', usage: 'Address of the real server' },
  { name: 'w', kind: 'int64', usage: 'Weight (capacity) of real server', default: '1' },
  { name: 's', kind: 'bool', usage: 'Show stats/counters' },
  { name: 'sum', kind: 'bool', usage: 'Show summary stats' },
  { name: 'lru', kind: 'bool', usage: 'Show LRU related stats' },
  { name: 'icmp', kind: 'bool', usage: "Show ICMP 'packet too big' related stats" },
  {
    name: 'n',
    kind: 'int64',
    usage: 'Stop the stats loops after this many one-second samples (bpf2wasm extension; default: run until interrupted)',
  },
  { name: 'l', kind: 'bool', usage: 'List configured services' },
  { name: 'vf', kind: 'string', usage: 'change vip flags. Possible values: NO_SPORT, NO_LRU, QUIC_VIP, DPORT_HASH, LOCAL_VIP' },
  { name: 'rf', kind: 'string', usage: 'change real flags. Possible values: LOCAL_REAL' },
  { name: 'unset', kind: 'bool', usage: 'Unset specified flags' },
  { name: 'new_hc', kind: 'string', usage: 'Address of new backend to healthcheck' },
  { name: 'somark', kind: 'uint64', usage: 'Socket mark to specified backend', default: '0' },
  { name: 'del_hc', kind: 'bool', usage: 'Delete backend w/ specified somark' },
  { name: 'list_hc', kind: 'bool', usage: 'List configured healthchecks' },
  { name: 'list_mac', kind: 'bool', usage: 'List configured mac address of default router' },
  { name: 'change_mac', kind: 'string', usage: 'Change configured mac address of default router' },
  { name: 'C', kind: 'bool', usage: 'Clear all configs' },
  { name: 'quic_mapping', kind: 'string', usage: 'mapping of real to connectionId. must be in <addr>=<id> format' },
  { name: 'list_qm', kind: 'bool', usage: "List current quic's mappings" },
  { name: 'del_qm', kind: 'bool', usage: 'Delete instead of adding specified quic mapping' },
  { name: 'server', kind: 'string', usage: 'Katran server listen address', default: '127.0.0.1:50051' },
];

const VIP_FLAGS: Record<string, number> = { NO_SPORT: 1, NO_LRU: 2, QUIC_VIP: 4, DPORT_HASH: 8, LOCAL_VIP: 32 };
const REAL_FLAGS: Record<string, number> = { LOCAL_REAL: 2 };
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

class CliError extends UserError {}

/** Where the output goes; tests and embedders can capture it. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const stdio: Output = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

/** `addr:port` or `[v6addr]:port`, port 0..65535. */
export function parseHostPort(text: string, what: string): { address: string; port: number } {
  const m = /^\[([^\]]*)\]:(.*)$/.exec(text) ?? /^([^:[\]]*):(.*)$/.exec(text);
  if (!m || m[1] === '') throw new CliError(`malformed ${what} '${text}': expected <addr>:<port> or [<v6addr>]:<port>`);
  if (!/^\d+$/.test(m[2]!)) throw new CliError(`malformed ${what} '${text}': port '${m[2]}' is not a number`);
  const port = Number(m[2]);
  if (port > 65535) throw new CliError(`${what} '${text}': port ${port} out of range (0..65535)`);
  return { address: m[1]!, port };
}

/** The Go client's state: parsed flags with its defaults, and one client connection. */
class Command {
  constructor(
    private readonly flags: FlagValues,
    private readonly client: KatranGrpcClient,
    private readonly io: Output,
  ) {}

  private str(name: string): string {
    return (this.flags.get(name) as string | undefined) ?? '';
  }
  private bool(name: string): boolean {
    return this.flags.get(name) === true;
  }
  /** Go's `log` package: timestamped, on stderr (stdout carries only the client's fmt output). */
  private log(line: string): void {
    this.io.err(`${goLogPrefix()}${line}`);
  }

  /** -t wins over -u, as in katran. */
  private service(command: string): { text: string; vip: WireVip } {
    const [text, protocol] = this.str('t') ? [this.str('t'), IPPROTO_TCP] : [this.str('u'), IPPROTO_UDP];
    if (!text) throw new CliError(`${command} needs a service: -t <addr>:<port> (TCP) or -u <addr>:<port> (UDP)`);
    const { address, port } = parseHostPort(text, 'service address');
    return { text, vip: { address, port, protocol } };
  }

  private namedFlag(table: Record<string, number>, flag: string): number {
    const name = this.str(flag);
    if (!name) return 0;
    const bit = table[name];
    if (bit === undefined) throw new CliError(`unrecognized flag for -${flag}: ${name} (known: ${Object.keys(table).join(', ')})`);
    return bit;
  }

  /** The dispatch of katran's main(), in its order. */
  async run(): Promise<void> {
    const f = (name: string): boolean => this.bool(name);
    if (this.str('change_mac')) await this.changeMac();
    else if (f('list_mac')) this.log(`Mac address is ${await this.client.getMac()}`);
    else if (f('A')) await this.addOrModifyVip('-A', false);
    else if (f('l')) await this.list();
    else if (f('D')) await this.deleteVip();
    else if (f('E')) await this.addOrModifyVip('-E', true);
    else if (f('a') || f('e')) await this.updateReal(f('a') ? '-a' : '-e', 'ADD');
    else if (f('d')) await this.updateReal('-d', 'DEL');
    else if (f('del_qm')) await this.quicMapping('DEL');
    else if (this.str('quic_mapping')) await this.quicMapping('ADD');
    else if (f('list_qm')) await this.listQuicMappings();
    else if (f('C')) await this.clearAll();
    else if (this.str('new_hc')) await this.client.addHealthcheckerDst(this.somark(), this.str('new_hc'));
    else if (f('del_hc')) await this.client.delHealthcheckerDst(this.somark());
    else if (f('list_hc')) await this.listHealthchecks();
    else if (f('s')) await this.stats();
    this.io.out('exiting');
  }

  private async changeMac(): Promise<void> {
    const ok = await this.client.changeMac(this.str('change_mac'));
    this.log(ok ? 'Mac address changed!' : 'Mac was not changed');
  }

  private async addOrModifyVip(command: string, modify: boolean): Promise<void> {
    const { text, vip } = this.service(command);
    this.log(`Adding service: ${text} ${vip.protocol}`);
    const flags = this.namedFlag(VIP_FLAGS, 'vf');
    const ok = modify ? await this.client.modifyVip(vip, flags, !this.bool('unset')) : await this.client.addVip(vip, flags);
    if (ok) this.log('Vip modified');
  }

  private async deleteVip(): Promise<void> {
    const { text, vip } = this.service('-D');
    this.log(`Deleting service: ${text} ${vip.protocol}`);
    if (await this.client.delVip(vip)) this.log('Vip modified');
  }

  private async updateReal(command: string, action: 'ADD' | 'DEL'): Promise<void> {
    const { vip } = this.service(command);
    const flags = this.namedFlag(REAL_FLAGS, 'rf');
    const weight = (this.flags.get('w') as bigint | undefined) ?? 1n;
    // Real.weight is an int32 on the wire; the Go client would silently wrap larger values.
    if (weight < -(2n ** 31n) || weight >= 2n ** 31n) throw new CliError(`-w ${weight}: weight out of range (int32)`);
    if (!this.str('r')) throw new CliError(`${command} needs the real server's address: -r <addr>`);
    const real = { address: this.str('r'), weight: Number(weight), flags };
    if (await this.client.modifyRealsForVip(action, [real], vip)) this.log('Reals modified');
  }

  private async quicMapping(action: 'ADD' | 'DEL'): Promise<void> {
    const text = this.str('quic_mapping');
    if (!text) throw new CliError('-del_qm needs the mapping to delete: -quic_mapping <addr>=<id>');
    const parts = text.split('=');
    if (parts.length !== 2 || !/^\d+$/.test(parts[1]!)) throw new CliError(`malformed quic mapping '${text}': expected <addr>=<id>`);
    const id = Number(parts[1]);
    if (id > 0x7fffffff) throw new CliError(`quic mapping '${text}': id out of range (int32)`);
    if (await this.client.modifyQuicRealsMapping(action, [{ address: parts[0]!, id }])) this.log('Quic mapping modified');
  }

  private async list(): Promise<void> {
    const vips = await this.client.getAllVips();
    this.log(`vips len ${vips.length}`);
    for (const vip of vips) {
      // Reals first: like katran, an unknown VIP fails before anything is printed for it.
      const reals = await this.client.getRealsForVip(vip);
      const flags = await this.client.getVipFlags(vip);
      for (const line of formatVipListing(vip, flags, reals)) this.io.out(line);
    }
  }

  private async listQuicMappings(): Promise<void> {
    this.io.out("printing address to quic's connection id mapping");
    for (const q of await this.client.getQuicRealsMapping()) this.io.out(formatQuicMapping(q.address, q.id));
  }

  private async clearAll(): Promise<void> {
    this.io.out('Deleting Vips');
    for (const vip of await this.client.getAllVips()) {
      const ok = await this.client.delVip(vip).catch((e: unknown) => rethrowIfUnreachable(e));
      if (!ok) this.io.out(`error while deleting vip: ${vip.address}`);
    }
    this.io.out('Deleting Healthchecks');
    let hcs: Map<number, string>;
    try {
      hcs = await this.client.getHealthcheckersDst();
    } catch (e) {
      if (e instanceof KatranRpcError && !e.unreachable) return; // health checking not configured
      throw e;
    }
    for (const somark of hcs.keys()) {
      const ok = await this.client.delHealthcheckerDst(somark).catch((e: unknown) => rethrowIfUnreachable(e));
      if (!ok) this.io.out(`error while deleting hc w/ somark: ${somark}`);
    }
  }

  private somark(): number {
    const v = (this.flags.get('somark') as bigint | undefined) ?? 0n;
    if (v > 0xffffffffn) throw new CliError(`-somark ${v}: out of range (uint32)`);
    return Number(v);
  }

  private async listHealthchecks(): Promise<void> {
    for (const [somark, address] of await this.client.getHealthcheckersDst()) this.io.out(formatHealthcheck(somark, address));
  }

  // ---- stats: one sample per second, differences from the previous sample (the first
  // sample is the absolute value, as katran's client starts from zero).

  private samples(): number {
    const n = this.flags.get('n') as bigint | undefined;
    if (n === undefined) return Infinity;
    if (n < 1n) throw new CliError(`-n ${n}: the number of samples must be at least 1`);
    return Number(n);
  }

  private async stats(): Promise<void> {
    const samples = this.samples();
    const loop = this.bool('sum')
      ? await this.sumStats()
      : this.bool('lru')
        ? this.lruStats()
        : this.bool('icmp')
          ? this.icmpStats()
          : await this.perVipStats();
    for (let i = 0; i < samples; i++) {
      if (i > 0) await sleep(1000);
      await loop();
    }
  }

  /** katran fetches the VIP list once, then skips a VIP whose stats call fails. */
  private async perVipStats(): Promise<() => Promise<void>> {
    const vips = await this.client.getAllVips();
    const previous = new Map<string, [bigint, bigint]>();
    return async () => {
      for (const vip of vips) {
        const key = `${vip.address}:${vip.port}:${vip.protocol}`;
        const s = await this.client.getStatsForVip(vip).catch((e: unknown) => rethrowIfUnreachable(e));
        if (!s) continue;
        const [p, b] = previous.get(key) ?? [0n, 0n];
        this.io.out(formatVipStats(key, u64Delta(s.v1, p), u64Delta(s.v2, b)));
        previous.set(key, [s.v1, s.v2]);
      }
    };
  }

  private async sumStats(): Promise<() => Promise<void>> {
    const vips = await this.client.getAllVips();
    let old: [bigint, bigint] = [0n, 0n];
    return async () => {
      let pkts = 0n;
      let bytes = 0n;
      for (const vip of vips) {
        const s = await this.client.getStatsForVip(vip).catch((e: unknown) => rethrowIfUnreachable(e));
        if (!s) continue;
        pkts = BigInt.asUintN(64, pkts + s.v1);
        bytes = BigInt.asUintN(64, bytes + s.v2);
      }
      this.io.out(formatSumStats(u64Delta(pkts, old[0]), u64Delta(bytes, old[1])));
      old = [pkts, bytes];
    };
  }

  private lruStats(): () => Promise<void> {
    let old = { total: 0n, miss: 0n, syn: 0n, nonSyn: 0n, fallback: 0n };
    return async () => {
      // katran retries a failed sample at once; an unreachable server ends the loop here.
      for (;;) {
        try {
          const [lru, miss, fallback] = [
            await this.client.getLruStats(),
            await this.client.getLruMissStats(),
            await this.client.getLruFallbackStats(),
          ];
          const now = { total: lru.v1, miss: lru.v2, syn: miss.v1, nonSyn: miss.v2, fallback: fallback.v1 };
          this.io.out(
            formatLruSummary({
              total: u64Delta(now.total, old.total),
              miss: u64Delta(now.miss, old.miss),
              tcpSynMiss: u64Delta(now.syn, old.syn),
              tcpNonSynMiss: u64Delta(now.nonSyn, old.nonSyn),
              fallback: u64Delta(now.fallback, old.fallback),
            }),
          );
          old = now;
          return;
        } catch (e) {
          rethrowIfUnreachable(e);
        }
      }
    };
  }

  private icmpStats(): () => Promise<void> {
    let old: [bigint, bigint] = [0n, 0n];
    return async () => {
      const s = await this.client.getIcmpTooBigStats();
      this.io.out(formatIcmpStats(u64Delta(s.v1, old[0]), u64Delta(s.v2, old[1])));
      old = [s.v1, s.v2];
    };
  }
}

/** In the places katran tolerates a failed RPC, a server that is gone still ends the run. */
function rethrowIfUnreachable(e: unknown): undefined {
  if (e instanceof KatranRpcError && !e.unreachable) return undefined;
  throw e;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs katran-cli with `argv` (no program name); returns the exit status. */
export async function main(argv: readonly string[], io: Output = stdio): Promise<number> {
  let client: KatranGrpcClient | undefined;
  try {
    const flags = parseGoFlags(argv, FLAGS);
    if (flags === 'help') {
      io.out(formatUsage('katran-cli', FLAGS).trimEnd());
      return 0;
    }
    const server = (flags.get('server') as string | undefined) ?? '127.0.0.1:50051';
    const { port } = parseHostPort(server, '-server address');
    if (port === 0) throw new CliError(`-server '${server}': port 0 is not a server port`);
    client = new KatranGrpcClient(server);
    await new Command(flags, client, io).run();
    return 0;
  } catch (e) {
    if (e instanceof FlagError || e instanceof UserError) {
      io.err(`katran-cli: ${e.message}`);
      return 1;
    }
    io.err(`katran-cli: internal error: ${(e as Error)?.stack ?? e}`);
    return 2;
  } finally {
    client?.close();
  }
}
