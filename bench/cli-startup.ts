// Start-up of the command line: `node -e 0` (Node's own floor), importing yargs alone (the
// floor of a yargs command line), `bpf2wasm --help`, compiling a tiny program
// (build/examples/xdp_pass.o), katran's balancer when KATRAN_BPF_OBJ names it, and a test
// run of the tiny module over a one-packet capture. Each
// command runs BENCH_RUNS times (default 10) after one warm-up; prints the median wall time
// with its spread (min..max), and the median CPU time (user + sys, all threads, from
// /usr/bin/time when present), which a busy machine disturbs less than the wall time.
// BENCH_CLI=path/to/bpf2wasm.js measures another build (e.g. an older commit) the same way;
// a comma-separated list of launchers measures several builds in interleaved rounds (each
// round runs every build once, so load drift hits them alike), one line per build.
// The compile rows are the targets: a tiny program in <= 0.3 s wall, katran <= 1 s.
//
//   npm run build && node dist/bench/cli-startup.js

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';
import { writePcap } from '../packets/pcap.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const clis = (process.env.BENCH_CLI ?? join(packageRoot, 'bin', 'bpf2wasm.js')).split(',');
const CLI = '<cli>'; // stands for each build's launcher in a command's arguments
const TIME = '/usr/bin/time';
const hasTime = existsSync(TIME);
const scratch = mkdtempSync(join(tmpdir(), 'bpf2wasm-startup-'));
const object = join(packageRoot, 'build', 'examples', 'xdp_pass.o');
const wasm = join(scratch, 'xdp_pass.wasm');
const pcap = join(scratch, 'one.pcap');
writeFileSync(pcap, writePcap([{ timestampNs: 0n, originalLength: 60, data: new Uint8Array(60) }]));

const cpuLog = join(scratch, 'cpu');

/** Wall and CPU ms of one run (CPU NaN without /usr/bin/time; its own start-up is not in the wall time's way: both include it). */
function time(args: string[]): { wall: number; cpu: number } {
  const [command, argv] = hasTime ? [TIME, ['-f', '%U %S', '-o', cpuLog, process.execPath, ...args]] : [process.execPath, args];
  const start = process.hrtime.bigint();
  const r = spawnSync(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], cwd: packageRoot });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  const cpu = hasTime
    ? readFileSync(cpuLog, 'utf8')
        .trim()
        .split(/\s+/)
        .reduce((n, s) => n + Number(s) * 1000, 0)
    : NaN;
  return { wall, cpu };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function measure(label: string, args: string[], targetMs?: number): void {
  const builds = args.includes(CLI) ? clis : [undefined];
  const argsOf = (cli: string | undefined): string[] => args.map((a) => (a === CLI ? cli! : a));
  for (const cli of builds) time(argsOf(cli));
  const runs = builds.map(() => [] as { wall: number; cpu: number }[]);
  for (let round = 0; round < RUNS; round++) builds.forEach((cli, i) => runs[i]!.push(time(argsOf(cli))));
  builds.forEach((cli, i) => {
    const walls = runs[i]!.map((r) => r.wall);
    const cpu = median(runs[i]!.map((r) => r.cpu));
    console.log(
      `${label.padEnd(34)} wall ${median(walls).toFixed(0).padStart(5)} ms (${Math.min(...walls).toFixed(0)}..${Math.max(...walls).toFixed(0)})` +
        `  cpu ${Number.isNaN(cpu) ? '-' : cpu.toFixed(0).padStart(5)} ms` +
        (targetMs === undefined ? '' : `  (target ${targetMs} ms wall: ${median(walls) <= targetMs ? 'met' : 'not met'})`) +
        (builds.length > 1 ? `  ${cli}` : ''),
    );
  });
}

console.log(
  `${clis.join(', ')}, ${RUNS} runs each; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

measure('node -e 0', ['-e', '0']);
measure("node: import 'yargs'", ['--input-type=module', '-e', "import 'yargs'; import 'yargs/helpers'"]);
measure('bpf2wasm --help', [CLI, '--help']);
measure('bpf2wasm xdp_pass.o -o x.wasm', [CLI, object, '-o', wasm, '-q'], 300);
const katran = process.env.KATRAN_BPF_OBJ;
if (katran) measure('bpf2wasm katran -o k.wasm', [CLI, katran, '-o', join(scratch, 'katran.wasm'), '-q'], 1000);
else console.log('katran compile skipped: set KATRAN_BPF_OBJ to a balancer.bpf.o');
measure('bpf2wasm test-run x.wasm (1 pkt)', [CLI, 'test-run', wasm, '--pcap', pcap]);
