// The bench's peers: other userspace eBPF JITs running the same relocated program, maps
// and packets (bench/peer-dump.ts) through our C harness (bench/peer-harness/), built
// here against builds of theirs made outside this repository (bench/README.md "Peers"):
// llvmbpf (bpftime's LLVM JIT) from LLVMBPF_DIR, uBPF from UBPF_DIR. Both optional: a
// peer whose directory is unset is left out and the bench says what it needs.
//
// A harness process serves one workload: it verifies every packet against our compiled
// module's verdict and bytes first, then answers "run N" with ns/packet, so its rounds
// interleave with the other engines' like theirs do. Requests and answers go through two
// FIFOs; the shell that starts it writes "exit <status>" to the answer FIFO when it ends,
// so a harness that fails is reported instead of blocking the bench.

import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';

export const PEERS = ['llvmbpf', 'ubpf'] as const;
export type PeerName = (typeof PEERS)[number];

export interface Peer {
  name: PeerName;
  binary: string;
}

const SOURCES = join(packageRoot, 'bench', 'peer-harness');
const ENV: Record<PeerName, string> = { llvmbpf: 'LLVMBPF_DIR', ubpf: 'UBPF_DIR' };

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}\n${r.stderr}${r.error?.message ?? ''}`);
}

/** The compile and link commands of one peer's harness (printed by the bench, so they can be rerun by hand). */
export function harnessCommands(peer: PeerName, dir: string, out: string): [string, string[]][] {
  const common: [string, string[]] = ['cc', ['-O2', '-Wall', '-c', join(SOURCES, 'harness.c'), join(SOURCES, 'maps.c')]];
  if (peer === 'llvmbpf') {
    const llvmConfig = process.env.LLVM_CONFIG ?? '/usr/lib/llvm-15/bin/llvm-config';
    const flags = spawnSync(
      llvmConfig,
      ['--includedir', '--ldflags', '--libs', 'core', 'orcjit', 'mcjit', 'support', 'nativecodegen', '--system-libs'],
      {
        encoding: 'utf8',
      },
    );
    if (flags.status !== 0) throw new Error(`${llvmConfig} failed (set LLVM_CONFIG to LLVM 15's llvm-config): ${flags.stderr}`);
    const [include, ...link] = flags.stdout.split(/\s+/).filter(Boolean);
    return [
      common,
      [
        'g++',
        [
          '-O2',
          '-std=c++20',
          '-c',
          join(SOURCES, 'engine-llvmbpf.cpp'),
          `-I${SOURCES}`,
          `-I${dir}/include`,
          `-I${dir}/src`,
          `-I${include}`,
        ],
      ],
      ['g++', ['-o', out, 'harness.o', 'maps.o', 'engine-llvmbpf.o', join(dir, 'libllvmbpf_vm.a'), ...link, '-lspdlog', '-lfmt']],
    ];
  }
  return [
    common,
    [
      'cc',
      [
        '-O2',
        '-Wall',
        '-DUBPF_MAX_EXT_FUNCS=256',
        '-c',
        join(SOURCES, 'engine-ubpf.c'),
        `-I${SOURCES}`,
        `-I${dir}/vm/inc`,
        `-I${dir}/build/vm`,
      ],
    ],
    ['cc', ['-o', out, 'harness.o', 'maps.o', 'engine-ubpf.o', join(dir, 'build', 'lib', 'libubpf.a')]],
  ];
}

/** Builds the harness of every peer whose directory is set; `missing` says what the others need. */
export function buildPeers(): { peers: Peer[]; missing: string[]; commands: string[] } {
  const peers: Peer[] = [];
  const missing: string[] = [];
  const commands: string[] = [];
  for (const name of PEERS) {
    const dir = process.env[ENV[name]];
    if (!dir) {
      missing.push(`${name} column needs ${ENV[name]} (a build of ${name} made outside the repository, bench/README.md "Peers")`);
      continue;
    }
    if (!existsSync(dir)) throw new Error(`${ENV[name]}=${dir}: no such directory`);
    const build = mkdtempSync(join(tmpdir(), `bpf2wasm-peer-${name}-`));
    const out = join(build, `peer-${name}`);
    for (const [cmd, args] of harnessCommands(name, dir, out)) {
      commands.push(`(cd ${build} && ${cmd} ${args.join(' ')})`);
      run(cmd, args, build);
    }
    peers.push({ name, binary: out });
  }
  return { peers, missing, commands };
}

/** One harness process on one dump: `time(n)` is ns/packet over n packets. */
export class PeerRun {
  private readonly child: ChildProcess;
  private readonly cmd: number;
  private readonly reply: number;
  /** Holds the two FIFOs; removed at close. */
  private readonly dir: string;
  private pending = '';
  /** The shell's "exit" line was read: the harness is gone. */
  private ended = false;
  /** Compile time of the program in the peer's JIT (ms). */
  readonly jitMs: number;

  constructor(peer: Peer, dump: string) {
    const dir = (this.dir = mkdtempSync(join(tmpdir(), 'bpf2wasm-peer-run-')));
    const cmdPath = join(dir, 'cmd');
    const replyPath = join(dir, 'reply');
    run('mkfifo', [cmdPath, replyPath], dir);
    // Read-write opens never block on a FIFO and keep it open for our side.
    this.cmd = openSync(cmdPath, 'r+');
    this.reply = openSync(replyPath, 'r+');
    this.child = spawn('sh', ['-c', '"$0" "$1" "$2" "$3"; echo "exit $?" > "$3"', peer.binary, dump, cmdPath, replyPath], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const first = this.line();
    const ok = /^ok \d+ ([\d.]+)$/.exec(first);
    if (!ok) {
      closeSync(this.cmd);
      closeSync(this.reply);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${peer.name} harness on ${dump}: ${first === 'exit 1' ? 'output differs from the compiled module' : first}`);
    }
    this.jitMs = Number(ok[1]);
  }

  time(n: number): number {
    writeSync(this.cmd, `run ${n}\n`);
    const answer = this.line();
    const ns = Number(answer);
    if (!Number.isFinite(ns)) throw new Error(`peer harness: ${answer}`);
    return ns;
  }

  /** Ends the harness and waits for its shell's "exit" line (the shell's open of the FIFO needs our reader). */
  close(): void {
    writeSync(this.cmd, 'quit\n');
    while (!this.ended) this.line();
    closeSync(this.cmd);
    closeSync(this.reply);
    rmSync(this.dir, { recursive: true, force: true });
    this.child.unref();
  }

  private line(): string {
    const buf = Buffer.alloc(256);
    while (!this.pending.includes('\n')) {
      const n = readSync(this.reply, buf, 0, buf.length, null);
      this.pending += buf.toString('utf8', 0, n);
    }
    const at = this.pending.indexOf('\n');
    const line = this.pending.slice(0, at);
    this.pending = this.pending.slice(at + 1);
    if (line.startsWith('exit ')) this.ended = true;
    return line;
  }
}
