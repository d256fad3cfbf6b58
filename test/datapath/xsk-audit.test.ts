// The AF_XDP socket's audit (XskSocket.audit) against frames whose whereabouts the test
// knows: frames taken off the RX ring and kept are on no ring, exactly those; handed back,
// none is; one handed back twice is on two. A child in the receiving namespace owns the
// socket (test/support/xsk-audit-child.ts); the generator's frames come over a veth.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topologyMissing } from '../../examples/topology/topology.js';
import { skip } from '../support/skip.js';
import { removeNamespaces, sh, vethPairInNamespaces } from '../support/veth-pair.js';

const HOLD = 5;
/** The child's UMEM (test/support/xsk-audit-child.ts), and so its fill ring's size. */
const FRAMES = 64;
const here = fileURLToPath(new URL('.', import.meta.url));
const child = join(here, '..', 'support', 'xsk-audit-child.js');
const generator = join(here, '..', 'support', 'soak-generator.js');
const unavailable = topologyMissing();

test('audit: held frames on no ring (those exactly), none once handed back, a double on two rings', async () => {
  if (unavailable) return void skip('AF_XDP audit', unavailable);
  const GEN = `agen${process.pid % 100000}`;
  const DUT = `adut${process.pid % 100000}`;
  try {
    const { dutMac } = vethPairInNamespaces(GEN, DUT);
    const proc = spawn('ip', ['netns', 'exec', DUT, process.execPath, child, 'd0', String(HOLD)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const steps: Record<
      string,
      { taken?: number[]; held?: number; extra?: number; fillQueued?: number; missing: number[]; doubled: number[] }
    > = {};
    const lines = createInterface({ input: proc.stdout });
    for await (const line of lines) {
      const o = JSON.parse(line) as { ready?: boolean; step?: string };
      // 20 frames at 100 pps: enough to fill HOLD, however many the veth drops.
      if (o.ready) sh('ip', 'netns', 'exec', GEN, process.execPath, generator, 'g0', dutMac, '10.200.200.1', '9', '20', '1');
      else steps[o.step!] = o as (typeof steps)[string];
    }
    const holding = steps.holding;
    assert.ok(holding, `the child's steps; stderr: ${stderr}`);
    assert.is(holding.taken!.length, HOLD, 'the child took its frames');
    assert.is(holding.held, HOLD);
    assert.equal(
      [...holding.missing].sort((a, b) => a - b),
      [...holding.taken!].sort((a, b) => a - b),
      'held frames, and only they, are on no ring',
    );
    assert.equal(holding.doubled, []);
    assert.equal(steps.returned!.missing, [], 'handed back: every frame on a ring');
    assert.equal(steps.returned!.doubled, []);
    assert.is(steps.returned!.held, 0);
    assert.equal(steps.doubled!.doubled, [holding.taken![0]], 'a frame recycled twice is on the fill ring twice');
    assert.equal(steps.doubled!.missing, []);
    // The fill ring full, what did not fit waits in the socket: nothing written over, every copy somewhere.
    const overflow = steps.overflow!;
    assert.is(overflow.fillQueued, FRAMES, 'the fill ring is full');
    assert.equal(overflow.missing, [], 'no fill entry written over');
    assert.is(overflow.doubled.filter((f) => f === holding.taken![1]).length, overflow.extra!, 'every extra copy on the ring or waiting');
  } finally {
    removeNamespaces(GEN, DUT);
  }
});

test.run();
