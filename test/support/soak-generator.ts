// The soak test's traffic: UDP frames to one VIP at a steady rate, over FLOWS source
// ports (so the balancer's LRU keeps meeting new and known flows), through a raw AF_PACKET
// socket (the native addon). Runs inside the generator's namespace until SECONDS have
// passed, then prints one JSON line {sent}: every frame the socket took, which is what
// the datapath must count.
//
//   node soak-generator.js IFACE DST_MAC DST_IP DST_PORT PPS SECONDS

import { nativeAddon } from '../../native/addon.js';
import { ethernet, ipv4, udp } from '../../packets/corpus.js';

const FLOWS = 512;
const TICK_MS = 10;

const [iface, dstMac, dstIp, dstPort, pps, seconds] = process.argv.slice(2);
if (!iface || !dstMac || !dstIp || !dstPort || !pps || !seconds) {
  console.error('usage: soak-generator IFACE DST_MAC DST_IP DST_PORT PPS SECONDS');
  process.exit(1);
}
const mac = dstMac.split(':').map((h) => parseInt(h, 16));
const frames = Array.from({ length: FLOWS }, (_, i) => {
  const frame = ethernet(
    0x0800,
    ipv4({ src: [10, 1, i >> 8, i & 0xff], dst: dstIp.split('.').map(Number), proto: 17 }, udp(10000 + i, Number(dstPort), 18)),
  );
  frame.set(mac, 0);
  return frame;
});
const socket = new (nativeAddon().PacketSocket)(iface, false);
const start = Date.now();
const end = start + Number(seconds) * 1000;
let sent = 0;
let due = 0;
let flow = 0;
const tick = (): void => {
  const now = Date.now();
  if (now >= end) {
    socket.close();
    console.log(JSON.stringify({ sent }));
    return;
  }
  // What the rate owes by now, so a late tick catches up instead of lowering the rate.
  due = Math.floor(((now - start) / 1000) * Number(pps));
  while (sent < due) {
    const n = Math.min(due - sent, 8);
    sent += socket.sendMany(frames[flow]!, n);
    flow = (flow + 1) % FLOWS;
  }
  setTimeout(tick, TICK_MS);
};
tick();
