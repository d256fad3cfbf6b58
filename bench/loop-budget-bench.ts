// ns per packet of a checksum loop over 512 payload bytes (test/fixtures/kernel/checksum_loop.c)
// compiled twice in one run: verified by the memory-safety model (the loop proved bounded,
// no budget check on its back-edge) and verified structurally only (every back-edge
// decrements and compares the budget, as all loops did before). Compiled wasm, one
// runXdp call per packet, best of several rounds; the machine is shared, so read the ratio.
//
//   npm run build && node dist/bench/loop-budget-bench.js

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { compileObject } from '../compiler/compile.js';
import { loadObject } from '../compiler/object.js';
import { packageRoot } from '../core/package-root.js';
import { BpfMachine } from '../runtime/machine.js';
import { loadWasm } from '../runtime/program.js';

const PACKETS = Number(process.env.BENCH_REPEAT ?? 200_000);
const ROUNDS = 7;
const source = join(packageRoot, 'test', 'fixtures', 'kernel', 'checksum_loop.c');
const out = join(mkdtempSync(join(tmpdir(), 'bpf2wasm-bench-')), 'checksum_loop.o');
execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', source, '-o', out]);
const packet = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);

function nsPerPacket(memorySafety: boolean): number {
  const { wasm } = compileObject(loadObject(new Uint8Array(readFileSync(out)), out), { memorySafety });
  const worker = BpfMachine.create(loadWasm(wasm, 'checksum_loop')).worker(0, { engine: 'wasm' });
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < PACKETS; i++) worker.runXdp('checksum_loop', packet);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / PACKETS);
  }
  return best;
}

const budgeted = nsPerPacket(false);
const verified = nsPerPacket(true);
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`checksum over 512 bytes, budget check on the back-edge:  ${budgeted.toFixed(0)} ns/packet`);
console.log(`checksum over 512 bytes, verified bounded (no check):    ${verified.toFixed(0)} ns/packet`);
console.log(`ratio ${(budgeted / verified).toFixed(2)}`);
