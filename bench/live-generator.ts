// The live benchmarks' traffic generator: COUNT copies of one UDP frame sent out of IFACE
// through the driver's XDP transmit path (BPF_PROG_TEST_RUN with live frames and an XDP
// program that writes the frame and returns XDP_TX, native addon `xdpLiveFrames`): no
// socket, no skb, so on a veth it runs several times faster than the datapaths it feeds. Run inside the generator's namespace,
// pinned to CPU (the peer's receive work, its XDP hook included, runs on this CPU too).
// Prints one JSON line {sent, ms}. BATCH: frames per kernel batch (default 256, the
// kernel's largest); a veth's peer takes 256 frames between two of its NAPI polls, so a
// smaller batch loses none when the peer is late (tests), a larger one runs faster.
//
//   node dist/bench/live-generator.js IFACE DST_MAC DST_IP DST_PORT COUNT [CPU|- [BATCH]]

import { nativeAddon } from '../native/addon.js';
import { ethernet, ipv4, udp } from '../packets/corpus.js';

const [iface, dstMac, dstIp, dstPort, count, cpu, batch] = process.argv.slice(2);
if (!iface || !dstMac || !dstIp || !dstPort || !count) {
  console.error('usage: live-generator IFACE DST_MAC DST_IP DST_PORT COUNT [CPU|- [BATCH]]');
  process.exit(1);
}
const frame = ethernet(0x0800, ipv4({ src: [10, 1, 0, 1], dst: dstIp.split('.').map(Number), proto: 17 }, udp(12345, Number(dstPort), 18)));
frame.set(
  dstMac.split(':').map((h) => parseInt(h, 16)),
  0,
);
const addon = nativeAddon();
if (cpu !== undefined && cpu !== '-' && !addon.setAffinity(Number(cpu))) throw new Error(`cannot pin the generator to CPU ${cpu}`);
const { sent, ns } = addon.xdpLiveFrames(addon.ifIndex(iface), frame, Number(count), Number(batch ?? 256));
console.log(JSON.stringify({ sent, ms: ns / 1e6 }));
