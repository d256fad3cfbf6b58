// Hand-built Ethernet frames for differential tests: IPv4/IPv6 with TCP, UDP and ICMP,
// plus the awkward ones (options, fragments, TTL 1, truncated and malformed headers,
// minimum and jumbo frames). Header checksums are computed, so that programs which
// update them incrementally can be checked byte for byte.

export interface Frame {
  name: string;
  bytes: Uint8Array;
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

export function ipChecksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i]! << 8) | (header[i + 1] ?? 0); // i < length
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ethernet(type: number, payload: number[]): Uint8Array {
  return Uint8Array.from([...MAC_B, ...MAC_A, type >> 8, type & 0xff, ...payload]);
}

export interface V4 {
  src: number[];
  dst: number[];
  proto: number;
  ttl?: number;
  options?: number[];
  fragOff?: number;
  ihl?: number;
  version?: number;
}

export function ipv4(h: V4, l4: number[]): number[] {
  const options = h.options ?? [];
  const ihl = h.ihl ?? 5 + options.length / 4;
  const total = 20 + options.length + l4.length;
  const frag = h.fragOff ?? 0;
  const header = Uint8Array.from([
    ((h.version ?? 4) << 4) | ihl,
    0,
    total >> 8,
    total & 0xff,
    0x12,
    0x34,
    frag >> 8,
    frag & 0xff,
    h.ttl ?? 64,
    h.proto,
    0,
    0,
    ...h.src,
    ...h.dst,
    ...options,
  ]);
  const sum = ipChecksum(header);
  header[10] = sum >> 8;
  header[11] = sum & 0xff;
  return [...header, ...l4];
}

export function ipv6(src: number[], dst: number[], next: number, l4: number[], hop = 64): number[] {
  return [0x60, 0, 0, 0, l4.length >> 8, l4.length & 0xff, next, hop, ...src, ...dst, ...l4];
}

export const tcp = (sport: number, dport: number, flags: number, payload = 0): number[] => [
  sport >> 8,
  sport & 0xff,
  dport >> 8,
  dport & 0xff,
  0,
  0,
  0,
  1,
  0,
  0,
  0,
  0,
  0x50,
  flags,
  0xff,
  0xff,
  0,
  0,
  0,
  0,
  ...new Array(payload).fill(0x61),
];
export const udp = (sport: number, dport: number, payload: number): number[] => {
  const len = 8 + payload;
  return [sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, len >> 8, len & 0xff, 0, 0, ...new Array(payload).fill(0x62)];
};
export const icmpEcho = (payload: number): number[] => [8, 0, 0, 0, 0, 1, 0, 1, ...new Array(payload).fill(0x63)];

const C1 = [192, 168, 1, 1];
const C2 = [192, 168, 1, 2];
const VIP = [10, 200, 200, 1];
const C6 = [0xfc, 0, 0, 2, ...new Array(11).fill(0), 1];
const VIP6 = [0xfc, 0, 0, 1, ...new Array(11).fill(0), 1];
/** The real server of the example topology, and a katran-style outer source. */
export const REAL = [10, 0, 0, 2];
export const REAL6 = [0xfc, 0, ...new Array(13).fill(0), 2];
const OUTER_SRC = [172, 16, 104, 123];
const OUTER_SRC6 = [1, 0, ...new Array(13).fill(0), 7];
const innerV4 = (): number[] => ipv4({ src: C1, dst: VIP, proto: 6 }, tcp(31337, 80, 0x02));

/** The standard corpus; flows repeat so that map state (hits after misses) is exercised. */
export function corpus(): Frame[] {
  const f = (name: string, bytes: Uint8Array): Frame => ({ name, bytes });
  return [
    f('tcp syn v4', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6 }, tcp(31337, 80, 0x02)))),
    f('tcp ack v4 same flow', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6 }, tcp(31337, 80, 0x10, 100)))),
    f('tcp syn v4 other client', ethernet(0x0800, ipv4({ src: C2, dst: VIP, proto: 6 }, tcp(40000, 80, 0x02)))),
    f('udp v4', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 17 }, udp(5353, 53, 32)))),
    f('udp v4 to the tunnel port', ethernet(0x0800, ipv4({ src: C2, dst: VIP, proto: 17 }, udp(1000, 4789, 50)))),
    f('icmp echo v4 (trimmed)', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 1 }, icmpEcho(120)))),
    f('v4 with options', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6, options: [1, 1, 1, 0] }, tcp(1234, 80, 0x02)))),
    f('v4 fragment', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 17, fragOff: 0x2000 }, udp(1, 2, 40)))),
    f('v4 ttl 1', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6, ttl: 1 }, tcp(1, 80, 0x02)))),
    f('v4 other protocol (gre)', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 47 }, new Array(24).fill(0)))),
    f('tcp v6', ethernet(0x86dd, ipv6(C6, VIP6, 6, tcp(31337, 80, 0x02)))),
    f('v6 hop limit 1', ethernet(0x86dd, ipv6(C6, VIP6, 17, udp(1, 2, 8), 1))),
    f('arp', ethernet(0x0806, new Array(28).fill(1))),
    f('truncated ethernet (10 bytes)', Uint8Array.from(MAC_B.concat(MAC_A).slice(0, 10))),
    f('bare 14-byte ethernet', ethernet(0x0800, [])),
    f('ipv4 cut short', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6 }, []).slice(0, 12))),
    f('tcp header cut short', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6 }, tcp(1, 2, 2)).slice(0, 30))),
    f('bad version in ipv4', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6, version: 6 }, tcp(1, 2, 2)))),
    f('bad ihl 3', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6, ihl: 3 }, tcp(1, 2, 2)))),
    f('1514-byte udp', ethernet(0x0800, ipv4({ src: C2, dst: VIP, proto: 17 }, udp(7, 9, 1472)))),
    f('udp v4 again (flow hit)', ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 17 }, udp(5353, 53, 32)))),
    // What a load balancer sends its reals: IPIP, IPv6-in-IPv6, IPv4-in-IPv6.
    f('ipip to the real', ethernet(0x0800, ipv4({ src: OUTER_SRC, dst: REAL, proto: 4 }, innerV4()))),
    f('ipip to another host', ethernet(0x0800, ipv4({ src: OUTER_SRC, dst: [10, 0, 0, 3], proto: 4 }, innerV4()))),
    f('ipip with inner header cut short', ethernet(0x0800, ipv4({ src: OUTER_SRC, dst: REAL, proto: 4 }, innerV4().slice(0, 12)))),
    f('ipv6-in-ipv6 to the real', ethernet(0x86dd, ipv6(OUTER_SRC6, REAL6, 41, ipv6(C6, VIP6, 6, tcp(31337, 80, 0x02))))),
    f('ipv4-in-ipv6 to the real', ethernet(0x86dd, ipv6(OUTER_SRC6, REAL6, 4, innerV4()))),
    // The decapsulator's other branches: a v6 address it does not own, outer headers a
    // load balancer never sends (options, a fragment) and a v6 tunnel cut inside the inner header.
    f(
      'ipv6-in-ipv6 to another host',
      ethernet(0x86dd, ipv6(OUTER_SRC6, [0xfc, 0, ...new Array(13).fill(0), 3], 41, ipv6(C6, VIP6, 6, tcp(1, 80, 0x02)))),
    ),
    f('ipip with outer options', ethernet(0x0800, ipv4({ src: OUTER_SRC, dst: REAL, proto: 4, options: [1, 1, 1, 0] }, innerV4()))),
    f('ipip outer fragment', ethernet(0x0800, ipv4({ src: OUTER_SRC, dst: REAL, proto: 4, fragOff: 0x2000 }, innerV4()))),
    f('ipv6-in-ipv6 with inner header cut short', ethernet(0x86dd, ipv6(OUTER_SRC6, REAL6, 41, ipv6(C6, VIP6, 6, []).slice(0, 30)))),
  ];
}

/** A 9000-byte jumbo frame: larger than an XDP frame without fragments. */
export function jumboFrame(): Frame {
  return { name: '9000-byte jumbo', bytes: ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 17 }, udp(7, 9, 9000 - 14 - 28))) };
}
