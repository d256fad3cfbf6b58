// Every UMEM frame comes back after the RX ring overflows. `bpf2wasm run` (xdp_tx, AF_XDP
// copy mode on a veth) is stopped (SIGSTOP) while a burst of BURST frames arrives: the RX
// ring (2048 entries) fills and the kernel drops the rest as `rx ring full`. In copy mode
// the kernel takes a frame from the fill ring for each arrival, and one it cannot put on the
// full RX ring goes to the UMEM pool's own free list (xsk.c __xsk_rcv, xsk_buff_pool.c
// xp_free), where no ring shows it; the next frame that arrives is received into it
// (xp_alloc takes the free list first). So after the burst a trickle the ring has room
// for, and then at exit every frame must be on a ring, by count and by identity (the
// socket's audit: no frame on no ring, none on two).
// Asserted: the ring did overflow; frames counted + dropped at the socket = sent; fill + rx
// + tx + completion + held = frames; the audit's lists are empty.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRun, topologyMissing, type Balancer } from '../../examples/topology/topology.js';
import { examplePath } from '../support/examples.js';
import { report } from '../support/report.js';
import { skip } from '../support/skip.js';
import { accounted, parseUmemLine } from '../support/umem-line.js';
import { removeNamespaces, sh, vethPairInNamespaces } from '../support/veth-pair.js';

/** More than the RX ring's 2048 entries, within one second. */
const BURST = 3000;
const TRICKLE = 100;
const VIP = '10.200.200.1';
const generator = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'support', 'soak-generator.js');
const unavailable = topologyMissing();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('UMEM frames after RX ring overflow: all back on the rings, by count and by identity', async () => {
  if (unavailable) return void skip('RX ring overflow', unavailable);
  const GEN = `ugen${process.pid % 100000}`;
  const DUT = `udut${process.pid % 100000}`;
  let lb: Balancer | undefined;
  try {
    const { dutMac } = vethPairInNamespaces(GEN, DUT);
    const send = (pps: number): number =>
      (
        JSON.parse(sh('ip', 'netns', 'exec', GEN, process.execPath, generator, 'g0', dutMac, VIP, '9', String(pps), '1')) as {
          sent: number;
        }
      ).sent;

    lb = startRun(DUT, examplePath('xdp_tx'), ['--iface', 'd0', '--queues', '1', '--stats-interval', '0']);
    await lb.waitFor(/^running /, 30_000);
    // `ip netns exec` executes node in its place: this pid is the run itself, workers included.
    process.kill(lb.child.pid!, 'SIGSTOP');
    let sent: number;
    try {
      sent = send(BURST);
      await sleep(300); // the last frames through the veth into the full ring
    } finally {
      process.kill(lb.child.pid!, 'SIGCONT');
    }
    await sleep(1000);
    sent += send(TRICKLE);
    await sleep(500);
    assert.is(await lb.stop('SIGINT'), 0, `bpf2wasm run exit status; stderr: ${lb.stderr}`);

    const counted = Number(/^total: (\d+) packets/m.exec(lb.output)?.[1] ?? NaN);
    const line = lb.lines.find((l) => l.startsWith('umem: '));
    const [u] = parseUmemLine(lb.lines);
    assert.ok(u, `a umem line: ${line}`);
    report(`burst ${BURST} + trickle ${TRICKLE}: ${sent} sent, ${counted} counted, ${u.rxRingFull} rx ring full; ${line}`);
    assert.ok(u.final, "the worker's own account at exit");
    assert.ok(u.rxRingFull > 0, `the RX ring overflowed (${u.rxRingFull} frames dropped for want of room)`);
    assert.is(counted + u.rxRingFull + u.rxDropped, sent, 'frames counted + dropped at the socket = sent');
    assert.is(accounted(u), u.frames, `fill + rx + tx + completion + held = frames: ${line}`);
    assert.equal(u.missing, [], 'no frame on no ring');
    assert.equal(u.doubled, [], 'no frame on two rings');
  } finally {
    if (lb && lb.child.exitCode === null) {
      lb.child.kill('SIGCONT');
      lb.child.kill('SIGKILL');
      await lb.exited;
    }
    removeNamespaces(GEN, DUT);
  }
});

test.run();
