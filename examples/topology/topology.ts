// Drives examples/topology/katran-example.sh and the processes that live in it: the
// balancer (`bpf2wasm run` inside the load balancer's namespace), curl on the client,
// tcpdump on the wire to the real. Shared by the end-to-end test and `npm run demo`.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BPF2WASM_BIN, EXAMPLES_BUILD_DIR, packageRoot } from '../../core/package-root.js';

const root = packageRoot;
const script = join(root, 'examples', 'topology', 'katran-example.sh');
export const BPF2WASM = BPF2WASM_BIN;

export interface TopologyFacts {
  CLIENT_NS: string;
  LB_NS: string;
  REAL_NS: string;
  LB_IFACE: string;
  REAL_IFACE: string;
  REAL_MAC: string;
  LB_MAC: string;
  VIP: string;
  VIP6: string;
  REAL: string;
  REAL6: string;
  PAGE: string;
}

/** What building the topology needs that this machine lacks: its kind (for tests' skips) and which. */
export interface TopologyMissing {
  need: 'root' | 'host-tool' | 'native-addon';
  detail: string;
}

export function topologyMissing(): TopologyMissing | undefined {
  if (process.getuid?.() !== 0) return { need: 'root', detail: 'root (network namespaces, XDP)' };
  for (const tool of ['ip', 'bpftool', 'ethtool', 'curl', 'python3', 'tcpdump', 'nsenter']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return { need: 'host-tool', detail: `${tool} on PATH (scripts/setup.sh installs it)` };
  }
  if (!existsSync(join(root, 'native', 'build', 'Release', 'bpf2wasm_native.node')))
    return { need: 'native-addon', detail: 'the native addon (node scripts/build-native.mjs)' };
  return undefined;
}

/** Why the topology cannot be built here, or undefined when it can. */
export const topologyUnavailable = (): string | undefined => topologyMissing()?.detail;

export class Topology {
  private constructor(
    readonly prefix: string,
    readonly facts: TopologyFacts,
  ) {}

  /** Builds it; throws with the script's message (and nothing left behind) on failure. */
  static up(prefix: string): Topology {
    // The decap program from this build's examples (.test-build/ under npm test, else the checkout's build/).
    const r = spawnSync('bash', [script, 'up', prefix, join(EXAMPLES_BUILD_DIR, 'xdp_decap.o')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`topology ${prefix}: ${r.stderr.trim() || r.stdout.trim()}`);
    const facts = Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('=', 2) as [string, string]),
    );
    return new Topology(prefix, facts as unknown as TopologyFacts);
  }

  down(): void {
    spawnSync('bash', [script, 'down', this.prefix]);
  }

  /** Runs a command in one of the namespaces and returns its result. */
  exec(ns: string, command: string[], timeoutMs = 10_000): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', ns, ...command], { encoding: 'utf8', timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  curl(url: string): { status: number | null; body: string } {
    const r = this.exec(this.facts.CLIENT_NS, ['curl', '-sS', '--max-time', '5', '-g', url]);
    return { status: r.status, body: r.stdout || r.stderr };
  }

  /** The katran config that sends both VIPs' port 80 to the real, via the real's MAC. */
  katranConfig(): string {
    const f = this.facts;
    return JSON.stringify(
      {
        mac: f.REAL_MAC,
        vips: [
          { address: f.VIP, port: 80, protocol: 'tcp', reals: [{ address: f.REAL }] },
          { address: f.VIP6, port: 80, protocol: 'tcp', reals: [{ address: f.REAL6 }] },
        ],
      },
      null,
      2,
    );
  }

  /** tcpdump on the switch port facing the real: the wire, before the real's XDP decap. */
  capture(file: string, filter: string): ChildProcess {
    return spawn(
      'ip',
      ['netns', 'exec', `${this.prefix}-sw`, 'tcpdump', '--immediate-mode', '-U', '-n', '-i', 'real', '-w', file, filter],
      { stdio: 'ignore' },
    );
  }

  /** `bpf2wasm run <object> --iface eth0 ...` in the balancer's namespace. */
  startBalancer(object: string, args: string[]): Balancer {
    return startRun(this.facts.LB_NS, object, ['--iface', this.facts.LB_IFACE, ...args]);
  }

  /** True when the balancer's interface has no XDP program and no pass-through TAP is left. */
  lbInterfaceClean(): boolean {
    const links = this.exec(this.facts.LB_NS, ['ip', '-d', 'link', 'show']).stdout;
    return !/\bxdp/.test(links) && !/bpw\d+pass/.test(links);
  }
}

/** `bpf2wasm run <object> ...args` inside network namespace `ns`. */
export function startRun(ns: string, object: string, args: string[]): Balancer {
  return new Balancer(
    spawn('ip', ['netns', 'exec', ns, process.execPath, BPF2WASM, 'run', object, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

/** A `bpf2wasm run` process: its stdout lines, stderr, and exit. */
export class Balancer {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const parts = text.split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Waits for a stdout line matching `pattern` (or the process's end). */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line) return line;
      if (exited) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`balancer: no line matching ${pattern}; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
  }

  /** The newest katran LRU counters from the stats lines. */
  lru(): { lookups: number; misses: number } | undefined {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const m = /katran lru (\d+) lookups (\d+) misses/.exec(this.lines[i]!);
      if (m) return { lookups: Number(m[1]), misses: Number(m[2]) };
    }
    return undefined;
  }

  /** Stdout so far, as text. */
  get output(): string {
    return this.lines.join('\n');
  }

  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export function pageOf(facts: TopologyFacts): string {
  return readFileSync(facts.PAGE, 'utf8');
}
