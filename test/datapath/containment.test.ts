// Containment through the commands: a capture of packets that make the program fault (bad
// helper pointers, a trap inside the compiled map update with its lock held) between
// normal ones. `test-run --json` reports each fault on its packet and exits 0, with the
// same verdicts on both engines; `run --mode pcap` (two worker threads sharing the maps)
// finishes, counts the faults, and transmits every normal packet.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPcap, writePcap } from '../../packets/pcap.js';
import { BPF2WASM } from '../../examples/topology/topology.js';
import { compileBpf, scratchDir } from '../support/clang.js';
import { packageRoot } from '../../core/package-root.js';

const source = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', 'containment.c'));
const BAD_POINTER_OPS = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const OP_TRAP_UNDER_LOCK = 10;

function frame(op: number, key: number, value: number): Uint8Array {
  const f = new Uint8Array(60);
  f[14] = op;
  f[15] = key;
  f[16] = value;
  return f;
}

/** Key 1 exists before the faults (provisioned), so later updates of it need no new node. */
const normal = (i: number): Uint8Array => frame(0, 1, i);
const frames: Uint8Array[] = [];
for (const op of BAD_POINTER_OPS) frames.push(frame(op, 2, 2), normal(op));
const faultsBeforeTrap = BAD_POINTER_OPS.length;
const pcap = join(scratchDir(), 'containment.pcap');
writeFileSync(pcap, writePcap(frames.map((data) => ({ timestampNs: 0n, originalLength: data.length, data }))));
const run = (args: string[], timeout = 60_000) => spawnSync(process.execPath, [BPF2WASM, ...args], { encoding: 'utf8', timeout });
const PROVISION = ['--update', `hash=01000000:${'00'.repeat(8)}`];
// The program is unsafe on purpose (the kernel refuses it too): only the structural
// verifier lets it through, which is what run-time containment is tested against.
const object = join(scratchDir(), 'containment.wasm');
const compiled = run([source, '--verifier', 'structural', '-o', object]);
if (compiled.status !== 0) throw new Error(`compiling containment.c: ${compiled.stderr}`);

interface Line {
  index: number;
  action: string;
  fault?: string;
}

test('test-run --json: a fault per bad packet, exit 0, no stack trace, both engines alike', () => {
  const verdicts: Record<string, string[]> = {};
  for (const engine of ['wasm', 'interp']) {
    const r = run(['test-run', object, '--pcap', pcap, '--json', '--engine', engine, ...PROVISION]);
    assert.is(r.status, 0, r.stderr);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    assert.is(lines.length, frames.length);
    lines.forEach((line, i) => {
      if (i % 2 === 0) {
        assert.is(line.action, 'XDP_ABORTED', `${engine}: packet ${i}`);
        assert.match(line.fault ?? '', /helper pointer argument outside memory|memory access out of bounds/);
      } else {
        assert.equal([line.action, line.fault], ['XDP_TX', undefined], `${engine}: packet ${i} after a fault`);
      }
    });
    verdicts[engine] = lines.map((l) => `${l.action}${l.fault ? ' fault' : ''}`);
  }
  assert.equal(verdicts.wasm, verdicts.interp);
  const summary = run(['test-run', object, '--pcap', pcap, ...PROVISION]);
  assert.is(summary.status, 0, summary.stderr);
  assert.match(summary.stdout, new RegExp(`faults\\s+${faultsBeforeTrap} `));
});

test('run --mode pcap, two workers: faults counted, every normal packet transmitted, the run ends', () => {
  // Then a trap with the hash map's lock held, and normal packets after it for both workers.
  const more = [...frames, frame(OP_TRAP_UNDER_LOCK, 9, 9), ...[1, 2, 3, 4, 5, 6].map((i) => normal(100 + i))];
  const input = join(scratchDir(), 'containment-live.pcap');
  writeFileSync(input, writePcap(more.map((data) => ({ timestampNs: 0n, originalLength: data.length, data }))));
  const out = join(scratchDir(), 'containment-live.out.pcap');
  const r = run(['run', object, '--mode', 'pcap', '--pcap', input, '--out', out, '--queues', '2', '--stats-interval', '0', ...PROVISION]);
  assert.is(r.status, 0, `${r.error ?? ''} ${r.stderr}`);
  assert.match(r.stdout, new RegExp(`^total: ${more.length} packets; .*; faults ${faultsBeforeTrap + 1}$`, 'm'), r.stdout);
  const sent = readPcap(new Uint8Array(readFileSync(out)), out).map((p) => p.data[16]);
  const want = more.filter((f) => f[14] === 0).map((f) => f[16]);
  assert.equal(sent, want, 'every normal packet, in capture order');
});

test.run();
