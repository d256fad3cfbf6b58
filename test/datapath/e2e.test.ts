// The live datapath end to end, in katran's example topology (network namespaces made
// and removed here): the load balancer runs in userspace on AF_XDP, `curl` on the client
// reaches the real's page through the VIP (IPv4 and IPv6); the wire to the real carries
// IPIP with katran's outer source addresses; katran's LRU counters show a miss and then
// hits; the balancer host still answers ping; stopping leaves the interface clean.
// Runs on our example LB always, and on katran's balancer when KATRAN_BPF_OBJ is set.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcap } from '../../packets/pcap.js';
import { Topology, pageOf, topologyMissing } from '../../examples/topology/topology.js';
import { accounted, parseUmemLine } from '../support/umem-line.js';
import { examplePath } from '../support/examples.js';
import { skip } from '../support/skip.js';

const unavailable = topologyMissing();
const work = mkdtempSync(join(tmpdir(), 'bpf2wasm-e2e-'));

/** Outer IPv4 source katran derives from the client: 172.16.(a2 ^ port_lo).(a3 ^ port_hi). */
function katranOuterSource(client: number[], sport: number): string {
  return `172.16.${client[2]! ^ (sport & 0xff)}.${client[3]! ^ (sport >> 8)}`;
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function endToEnd(label: string, object: string, prefix: string, extraArgs: string[] = []): Promise<void> {
  const topo = Topology.up(prefix);
  try {
    const f = topo.facts;
    const page = pageOf(f);
    const config = join(work, `${prefix}.json`);
    writeFileSync(config, topo.katranConfig());
    if (extraArgs.includes('afpacket')) {
      // AF_PACKET only copies frames: the balancer's own kernel still sees VIP traffic and
      // would answer IPv6 with "unreachable". Blackhole routes make it stay silent.
      for (const vip of [f.VIP, f.VIP6]) topo.exec(f.LB_NS, ['ip', 'route', 'add', 'blackhole', vip]);
    }
    const pcap = join(work, `${prefix}.pcap`);
    const tcpdump = topo.capture(pcap, 'ip proto 4 or ip6 proto 41');
    const lb = topo.startBalancer(object, [
      '--katran',
      '--katran-config',
      config,
      '--stats-interval',
      '0.2',
      '--lru-size',
      '1000',
      ...extraArgs,
    ]);
    try {
      await lb.waitFor(/^running /);
      await settle(300);

      const first = topo.curl(`http://${f.VIP}/`);
      assert.is(first.body, page, `${label}: curl through the IPv4 VIP`);
      await settle(600);
      const afterFirst = lb.lru();
      assert.ok(afterFirst, `${label}: stats lines carry katran's LRU counters`);
      assert.is(afterFirst!.misses, 1, `${label}: the first connection misses the LRU once`);
      assert.ok(afterFirst!.lookups > afterFirst!.misses, `${label}: its later packets hit (${afterFirst!.lookups} lookups)`);

      assert.is(topo.curl(`http://[${f.VIP6}]/`).body, page, `${label}: curl through the IPv6 VIP`);
      const ping = topo.exec(f.CLIENT_NS, ['ping', '-c', '2', '-i', '0.2', '-W', '1', '10.0.0.10']);
      assert.is(ping.status, 0, `${label}: the balancer host answers ping while the runtime owns its interface`);
      await settle(500);
    } finally {
      const code = await lb.stop();
      tcpdump.kill('SIGINT');
      await new Promise((r) => tcpdump.once('exit', r));
      assert.is(
        code,
        0,
        `${label}: balancer exit status (signal ${lb.child.signalCode}); stderr: ${lb.stderr}; stdout ends: ${lb.lines.slice(-4).join(' / ')}`,
      );
    }
    assert.ok(
      lb.lines.some((l) => /^total: \d+ packets; .*XDP_TX \d+/.test(l)),
      lb.lines.slice(-3).join('\n'),
    );
    if (!extraArgs.includes('afpacket')) {
      // No UMEM frame lost: all of them are back with the kernel, none dropped on the way.
      const umem = lb.lines.find((l) => l.startsWith('umem: ')) ?? '';
      const [w0] = parseUmemLine(lb.lines);
      assert.ok(w0, `umem accounting line: ${umem}`);
      assert.is(w0!.fill + w0!.rx, w0!.frames, `${label}: every UMEM frame returned to the kernel (${umem})`);
      assert.is(accounted(w0!), w0!.stated, `${label}: the parts add up to the stated sum (${umem})`);
      assert.is(w0!.txLost, 0, `${label}: no TX frame lost`);
    }
    assert.ok(topo.lbInterfaceClean(), `${label}: no XDP program or TAP left on the balancer's interface`);

    // Every encapsulated IPv4 packet on the wire: outer dst the real, outer src katran's.
    const frames = readPcap(new Uint8Array(readFileSync(pcap)), pcap).map((r) => r.data);
    const ipip = frames.filter((d) => d[12] === 0x08 && d[13] === 0x00 && d[23] === 4);
    assert.ok(ipip.length >= 3, `${label}: IPIP packets seen on the wire (${ipip.length})`);
    for (const d of ipip) {
      const outerSrc = [...d.subarray(26, 30)].join('.');
      const outerDst = [...d.subarray(30, 34)].join('.');
      const inner = d.subarray(34);
      const client = [...inner.subarray(12, 16)];
      const sport = (inner[20]! << 8) | inner[21]!;
      assert.is(outerDst, f.REAL);
      assert.is(outerSrc, katranOuterSource(client, sport), `${label}: outer source for ${client.join('.')}:${sport}`);
    }
    const v6 = frames.filter((d) => d[12] === 0x86 && d[13] === 0xdd);
    assert.ok(
      v6.some((d) => d[20] === 41),
      `${label}: IPv6-in-IPv6 on the wire (IPv6 frames' next headers: ${v6.map((d) => d[20]).join(',') || 'none'}; ${frames.length} frames)`,
    );
  } finally {
    topo.down();
  }
}

test('example LB in userspace: curl through the VIP, IPIP on the wire, LRU miss then hits', async () => {
  if (unavailable) return void skip('live end-to-end', unavailable);
  await endToEnd('example LB', examplePath('xdp_lb'), `e2e${process.pid % 100000}`);
});

test('example LB over AF_PACKET (the fallback mode): the same walk-through', async () => {
  if (unavailable) return void skip('live end-to-end over AF_PACKET', unavailable);
  await endToEnd('example LB, afpacket', examplePath('xdp_lb'), `p2e${process.pid % 100000}`, ['--mode', 'afpacket']);
});

test('katran balancer.bpf.o in userspace, same walk-through', async () => {
  if (unavailable) return void skip('live end-to-end on katran', unavailable);
  const katran = process.env.KATRAN_BPF_OBJ;
  if (!katran) return void skip('live end-to-end on katran', 'katran-object', "set KATRAN_BPF_OBJ to katran's balancer.bpf.o");
  await endToEnd('katran', katran, `k2e${process.pid % 100000}`);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
