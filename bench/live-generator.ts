// The live benchmarks' traffic generator: one UDP frame sent COUNT times through a raw
// AF_PACKET socket (sendmmsg batches, the native addon). Run inside the generator's
// namespace; prints one JSON line {sent, ms}.
//
//   node dist/bench/live-generator.js IFACE DST_MAC DST_IP DST_PORT COUNT

import { nativeAddon } from '../native/addon.js';
import { ethernet, ipv4, udp } from '../packets/corpus.js';

const [iface, dstMac, dstIp, dstPort, count] = process.argv.slice(2);
if (!iface || !dstMac || !dstIp || !dstPort || !count) {
  console.error('usage: live-generator IFACE DST_MAC DST_IP DST_PORT COUNT');
  process.exit(1);
}
const frame = ethernet(0x0800, ipv4({ src: [10, 1, 0, 1], dst: dstIp.split('.').map(Number), proto: 17 }, udp(12345, Number(dstPort), 18)));
frame.set(
  dstMac.split(':').map((h) => parseInt(h, 16)),
  0,
);
const socket = new (nativeAddon().PacketSocket)(iface, false);
const start = process.hrtime.bigint();
const sent = socket.sendMany(frame, Number(count));
const ms = Number(process.hrtime.bigint() - start) / 1e6;
socket.close();
console.log(JSON.stringify({ sent, ms }));
