// A TypeScript reading of katran's test PacketBuilder (katran/lib/testing/tools), so that
// katran_tester's fixtures — chains such as `.Eth("0x1", "0x2").IPv4(a, b).TCP(...)` — give
// the same bytes here as in katran's own tester. Written from the builder's documented
// behaviour, including the places where it departs from the RFCs, because the expected
// output packets are built by the same rules:
//  - headers are serialized last to first; a header's length and checksum cover what
//    was serialized after it; payloads (and QUIC) append, headers prepend;
//  - "0xN" MACs put N's low byte first (0x1 -> 01:00:00:00:00:00);
//  - IPv4 defaults: ttl 64, tos 0, id 1, frag_off = the `flags` argument as a 16-bit value;
//    an ihl above 5 adds zero bytes of options;
//  - IPv6: next header from the following header unless given; traffic class and flow label;
//  - UDP over IPv6 turns a zero checksum into 0xffff, over IPv4 it stays 0; UDP to the GUE
//    port (9886) carrying an ICMP error gets the checksum katran's gue_csum computes;
//  - TCP keeps only FIN, SYN, RST, PSH, ACK and URG of the flags; options are padded
//    with zeros (not NOPs) to a multiple of 4;
//  - ICMPv4 with no embedded packet sums the headers after it; "fragmentation needed"
//    takes its MTU from the sequence argument and sums at most 92 bytes;
//  - ICMPv6 sums only its own 8 bytes (and an embedded packet), with the pseudo-header
//    length of that, capped at 256 for packet-too-big;
//  - QUIC long headers pad the destination connection id to 8 bytes while the length byte
//    says its real size; `data("...")` on a long header appends "\0@".

import { parseIp } from '../../katran/ip.js';

type Kind = 'eth' | 'ipv4' | 'ipv6' | 'udp' | 'tcp' | 'icmp' | 'icmpv6' | 'arp' | 'payload';
type Bytes = number[];

interface Header {
  readonly kind: Kind;
  /** Called with the kind of the header that follows, before serializing. */
  followedBy?(next: Kind): void;
  /** Returns the packet with this header added to what was serialized after it. */
  serialize(index: number, stack: readonly Header[], packet: Bytes): Bytes;
}

export class PacketBuilderError extends Error {}

const be16 = (v: number): Bytes => [(v >>> 8) & 0xff, v & 0xff];
const be32 = (v: number): Bytes => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

/** One's-complement sum of big-endian 16-bit words (odd byte padded), complemented. */
function checksum(data: Bytes): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (data.length % 2 === 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function address(text: string, family: 4 | 6): Bytes {
  const addr = parseIp(text);
  if (!addr || addr.family !== family) throw new PacketBuilderError(`invalid IPv${family} address ${JSON.stringify(text)}`);
  return [...addr.bytes];
}

function mac(text: string): Bytes {
  if (text.startsWith('0x')) {
    let v = BigInt(text);
    return Array.from({ length: 6 }, () => {
      const b = Number(v & 0xffn);
      v >>= 8n;
      return b;
    });
  }
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p)))
    throw new PacketBuilderError(`invalid MAC address ${JSON.stringify(text)}`);
  return parts.map((p) => parseInt(p, 16));
}

function port(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new PacketBuilderError(`invalid ${what} port ${v}`);
  return v;
}

/** The nearest IP header before `index` (the one a transport checksum's pseudo-header uses). */
function enclosingIp(index: number, stack: readonly Header[]): Ipv4Header | Ipv6Header | undefined {
  for (let i = index - 1; i >= 0; i--) {
    const h = stack[i]!;
    if (h instanceof Ipv4Header || h instanceof Ipv6Header) return h;
  }
  return undefined;
}

function pseudoHeader(ip: Ipv4Header | Ipv6Header, proto: number, length: number): Bytes {
  return ip instanceof Ipv4Header
    ? [...ip.src, ...ip.dst, 0, proto, ...be16(length)]
    : [...ip.src, ...ip.dst, ...be32(length), 0, 0, 0, proto];
}

class EthernetHeader implements Header {
  readonly kind = 'eth';
  private etherType = 0;
  constructor(
    private readonly src: Bytes,
    private readonly dst: Bytes,
  ) {}
  followedBy(next: Kind): void {
    if (next === 'ipv4') this.etherType = 0x0800;
    else if (next === 'ipv6') this.etherType = 0x86dd;
    else if (next === 'arp') this.etherType = 0x0806;
  }
  serialize(_i: number, _s: readonly Header[], packet: Bytes): Bytes {
    return [...this.dst, ...this.src, ...be16(this.etherType), ...packet];
  }
}

class Ipv4Header implements Header {
  readonly kind = 'ipv4';
  private protocol = 0;
  constructor(
    readonly src: Bytes,
    readonly dst: Bytes,
    private readonly ttl: number,
    private readonly tos: number,
    private readonly id: number,
    private readonly fragOff: number,
    private readonly ihl: number,
  ) {}
  followedBy(next: Kind): void {
    const protocols: Partial<Record<Kind, number>> = { udp: 17, tcp: 6, icmp: 1, ipv6: 41, ipv4: 4 };
    this.protocol = protocols[next] ?? this.protocol;
  }
  serialize(_i: number, _s: readonly Header[], packet: Bytes): Bytes {
    const headerLength = this.ihl * 4;
    const header = [
      0x40 | (this.ihl & 0xf),
      this.tos,
      ...be16(headerLength + packet.length),
      ...be16(this.id),
      ...be16(this.fragOff),
      this.ttl,
      this.protocol,
      0,
      0,
      ...this.src,
      ...this.dst,
    ];
    while (header.length < headerLength) header.push(0);
    header.splice(10, 2, ...be16(checksum(header)));
    return [...header, ...packet];
  }
}

class Ipv6Header implements Header {
  readonly kind = 'ipv6';
  constructor(
    readonly src: Bytes,
    readonly dst: Bytes,
    private readonly hopLimit: number,
    private readonly trafficClass: number,
    private readonly flowLabel: number,
    private nextHeader: number,
  ) {}
  followedBy(next: Kind): void {
    if (this.nextHeader !== 0) return;
    const headers: Partial<Record<Kind, number>> = { udp: 17, tcp: 6, icmpv6: 58, ipv6: 41, ipv4: 4 };
    this.nextHeader = headers[next] ?? 0;
  }
  serialize(_i: number, _s: readonly Header[], packet: Bytes): Bytes {
    const flow = ((6 << 28) | (this.trafficClass << 20) | (this.flowLabel & 0xfffff)) >>> 0;
    return [...be32(flow), ...be16(packet.length), this.nextHeader, this.hopLimit, ...this.src, ...this.dst, ...packet];
  }
}

class UdpHeader implements Header {
  readonly kind = 'udp';
  constructor(
    private readonly sport: number,
    private readonly dport: number,
    private readonly zeroChecksum: boolean,
  ) {}
  serialize(index: number, stack: readonly Header[], packet: Bytes): Bytes {
    const length = 8 + packet.length;
    const header = [...be16(this.sport), ...be16(this.dport), ...be16(length), 0, 0];
    const ip = enclosingIp(index, stack);
    if (!this.zeroChecksum && ip) {
      if (this.dport === GUE_PORT && stack.slice(index + 1).some((h) => h.kind === 'icmp' || h.kind === 'icmpv6')) {
        header.splice(6, 2, ...be16(gueIcmpChecksum(header, ip, packet)));
        return [...header, ...packet];
      }
      let sum = checksum([...pseudoHeader(ip, 17, length), ...header, ...packet]);
      if (ip instanceof Ipv6Header && sum === 0) sum = 0xffff;
      header.splice(6, 2, ...be16(sum));
    }
    return [...header, ...packet];
  }
}

const GUE_PORT = 9886;

/** Sum of the big-endian 16-bit words of bytes [from, from + n), each complemented first if `negate`. */
function wordSum(bytes: Bytes, from: number, n: number, negate = false): number {
  let sum = 0;
  for (let i = from; i < from + n; i += 2) {
    const w = ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
    sum += negate ? ~w & 0xffff : w;
  }
  return sum;
}

/**
 * The outer UDP checksum katran's builder gives a GUE packet carrying an ICMP error (as
 * katran's gue_csum computes it incrementally): seeded from the embedded packet's transport
 * checksum, minus the inner pseudo-header, plus the inner IP header, the UDP header and the
 * outer pseudo-header. Two of the builder's details are kept: an IPv6 inner packet under an
 * IPv4 outer header takes its UDP length from the outer header's unset total length (0 - 20,
 * as a u16), and an IPv4 inner packet always reads IPv4 outer addresses (zeros under IPv6).
 */
function gueIcmpChecksum(udp: Bytes, outer: Ipv4Header | Ipv6Header, payload: Bytes): number {
  if (payload.length < 1) return 0;
  const innerV6 = payload[0]! >> 4 === 6;
  const innerHeader = innerV6 ? 40 : (payload[0]! & 0xf) * 4;
  const minimal = innerV6 ? 40 : 20;
  const embedded = innerHeader + 8;
  if (payload.length < minimal || payload.length < embedded + minimal) return 0;
  const embeddedHeader = innerV6 ? 40 : (payload[embedded]! & 0xf) * 4;
  const transport = embedded + embeddedHeader;
  if (payload.length < transport + 4) return 0;
  const embeddedProto = innerV6 ? payload[embedded + 6]! : payload[embedded + 9]!;
  const word = (at: number): number => (payload[at]! << 8) | payload[at + 1]!;
  let embeddedChecksum = 0;
  if (embeddedProto === 6) embeddedChecksum = payload.length >= transport + 18 ? word(transport + 16) : 0;
  else if (embeddedProto === 17) embeddedChecksum = payload.length >= transport + 8 ? word(transport + 6) : 0;
  else return 0;
  let sum = (~embeddedChecksum & 0xffff) + embeddedChecksum;
  // Minus the inner pseudo-header: addresses, upper-layer length, protocol (as 32-bit words).
  const [addrAt, addrLength] = innerV6 ? [8, 32] : [12, 8];
  sum += wordSum(payload, addrAt, addrLength, true);
  const innerLength = innerV6 ? word(4) : (word(2) - innerHeader) & 0xffff;
  const innerProto = innerV6 ? payload[6]! : payload[9]!;
  sum += wordSum([...be32(innerLength), ...be32(innerProto)], 0, 8, true);
  // Plus the inner IP header and the UDP header (checksum field 0).
  sum += wordSum(payload, 0, innerHeader) + wordSum(udp, 0, 8);
  // Plus the outer pseudo-header.
  const outerV4 = outer instanceof Ipv4Header;
  if (innerV6 && !outerV4) {
    sum += wordSum([...outer.src, ...outer.dst, ...be32(8 + payload.length), ...be32(17)], 0, 40);
  } else {
    const src = outerV4 ? outer.src : [0, 0, 0, 0];
    const dst = outerV4 ? outer.dst : [0, 0, 0, 0];
    const udpLength = innerV6 ? (0 - 20) & 0xffff : 8 + payload.length;
    sum += wordSum([...src, ...dst, ...be32(udpLength), ...be32(17)], 0, 16);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

class TcpHeader implements Header {
  readonly kind = 'tcp';
  private readonly options: { kind: number; data: Bytes }[] = [];
  constructor(
    private readonly sport: number,
    private readonly dport: number,
    private readonly seq: number,
    private readonly ack: number,
    private readonly window: number,
    private readonly flags: number,
  ) {}
  addOption(kind: number, data: Bytes = []): void {
    this.options.push({ kind, data });
  }
  /** EOL and NOP are one byte, the rest kind-length-data; zero-padded to a 4-byte multiple. */
  private optionBytes(): Bytes {
    const out = this.options.flatMap((o) => (o.kind <= 1 ? [o.kind] : [o.kind, 2 + o.data.length, ...o.data]));
    while (out.length % 4 !== 0) out.push(0);
    return out;
  }
  serialize(index: number, stack: readonly Header[], packet: Bytes): Bytes {
    const options = this.optionBytes();
    const header = [
      ...be16(this.sport),
      ...be16(this.dport),
      ...be32(this.seq),
      ...be32(this.ack),
      ((20 + options.length) / 4) << 4,
      this.flags & 0x3f,
      ...be16(this.window),
      0,
      0,
      0,
      0,
      ...options,
    ];
    const ip = enclosingIp(index, stack);
    if (ip) header.splice(16, 2, ...be16(checksum([...pseudoHeader(ip, 6, header.length + packet.length), ...header, ...packet])));
    return [...header, ...packet];
  }
}

/** katran's TCP header option carrying a server id (TCP_HDR_OPT_KIND_TPR). */
const TCP_OPTION_TPR = 0xb7;

const ICMP_DEST_UNREACH = 3;
const ICMP_FRAG_NEEDED = 4;
const ICMPV6_PACKET_TOO_BIG = 2;

class IcmpHeader implements Header {
  readonly kind = 'icmp';
  constructor(
    private readonly type: number,
    private readonly code: number,
    private readonly id: number,
    private readonly sequence: number,
  ) {}
  serialize(_i: number, _s: readonly Header[], packet: Bytes): Bytes {
    const fragNeeded = this.type === ICMP_DEST_UNREACH && this.code === ICMP_FRAG_NEEDED;
    // "Fragmentation needed" carries the MTU in the second half of the rest-of-header word.
    const rest = fragNeeded ? [0, 0, ...be16(this.sequence)] : [...be16(this.id), ...be16(this.sequence)];
    const header = [this.type, this.code, 0, 0, ...rest];
    const summed = [...header, ...packet];
    header.splice(2, 2, ...be16(checksum(fragNeeded ? summed.slice(0, 92) : summed)));
    return [...header, ...packet];
  }
}

class Icmpv6Header implements Header {
  readonly kind = 'icmpv6';
  constructor(
    private readonly type: number,
    private readonly code: number,
    private readonly id: number,
    private readonly sequence: number,
  ) {}
  serialize(index: number, stack: readonly Header[], packet: Bytes): Bytes {
    const rest = this.type === ICMPV6_PACKET_TOO_BIG ? be32(this.sequence) : [...be16(this.id), ...be16(this.sequence)];
    const header = [this.type, this.code, 0, 0, ...rest];
    let ip: Ipv6Header | undefined;
    for (let i = index - 1; i >= 0 && !ip; i--) if (stack[i] instanceof Ipv6Header) ip = stack[i] as Ipv6Header;
    // Without an IPv6 header before it, katran's builder sums zero addresses.
    const pseudo = ip ? pseudoHeader(ip, 58, header.length) : [...new Array(32).fill(0), ...be32(header.length), 0, 0, 0, 58];
    header.splice(2, 2, ...be16(checksum([...pseudo, ...header])));
    return [...header, ...packet];
  }
}

class ArpHeader implements Header {
  readonly kind = 'arp';
  constructor(
    private readonly opcode: number,
    private readonly senderMac: Bytes,
    private readonly senderIp: Bytes,
    private readonly targetMac: Bytes,
    private readonly targetIp: Bytes,
  ) {}
  serialize(_i: number, _s: readonly Header[], packet: Bytes): Bytes {
    return [
      0,
      1,
      0x08,
      0x00,
      6,
      4,
      ...be16(this.opcode),
      ...this.senderMac,
      ...this.senderIp,
      ...this.targetMac,
      ...this.targetIp,
      ...packet,
    ];
  }
}

/** Bytes appended after the headers (a plain payload, or a QUIC header with its data). */
class PayloadHeader implements Header {
  readonly kind = 'payload';
  constructor(private readonly bytes: Bytes) {}
  serialize(_i: number, _s: readonly Header[], packet: Bytes): Bytes {
    return [...packet, ...this.bytes];
  }
}

export const QUIC_TYPE = { INITIAL: 0x00, ZERO_RTT: 0x10, HANDSHAKE: 0x20, RETRY: 0x30, SHORT: 0x40 } as const;
type QuicType = (typeof QUIC_TYPE)[keyof typeof QUIC_TYPE];
const QUIC_LONG_FLAGS: Record<number, number> = {
  [QUIC_TYPE.INITIAL]: 0xcf,
  [QUIC_TYPE.ZERO_RTT]: 0xdf,
  [QUIC_TYPE.HANDSHAKE]: 0xef,
  [QUIC_TYPE.RETRY]: 0xff,
};
export const QUIC_V1_WIRE_FORMAT = 0xfaceb001;

function varint(v: number): Bytes {
  if (v < 64) return [v];
  if (v < 16384) return [0x40 | (v >> 8), v & 0xff];
  if (v < 2 ** 30) return [0x80 | (v >>> 24), ...be32(v).slice(1)];
  throw new PacketBuilderError(`QUIC length ${v} too large`);
}

function packetNumber(pn: number, length: number): Bytes {
  return Array.from({ length }, (_, i) => Math.floor(pn / 2 ** (8 * (length - 1 - i))) & 0xff);
}

/** The builder's QUIC sub-chain: `.QUICInitial().destConnId(...)....done()`. */
export class QuicBuilder {
  private destCid: Bytes = [];
  private srcCid: Bytes = [];
  private ver = QUIC_V1_WIRE_FORMAT;
  private tokenBytes: Bytes = [];
  private pn = 0;
  private pnLength = 0;
  private payload: Bytes = [];

  constructor(
    private readonly type: QuicType,
    private readonly parent: PacketBuilder,
  ) {}

  destConnId(id: Bytes): this {
    this.destCid = [...id];
    return this;
  }
  srcConnId(id: Bytes): this {
    this.srcCid = [...id];
    return this;
  }
  version(v: number): this {
    this.ver = v >>> 0;
    return this;
  }
  token(t: Bytes): this {
    this.tokenBytes = [...t];
    return this;
  }
  packetNumber(pn: number, lengthBytes = 4): this {
    this.pn = pn;
    this.pnLength = lengthBytes;
    return this;
  }
  /** Connection-id version: recorded by katran's builder but not serialized. */
  cidVersion(_v: number): this {
    return this;
  }
  /** Text data; long headers get "\0@" appended, as katran's builder does. */
  data(text: Bytes): this {
    this.payload = this.type === QUIC_TYPE.SHORT ? [...text] : [...text, 0, 0x40];
    return this;
  }
  /** Raw bytes, appended as given. */
  dataBytes(bytes: Bytes): this {
    this.payload = [...bytes];
    return this;
  }

  done(): PacketBuilder {
    return this.parent.raw(new PayloadHeader(this.serialize()));
  }

  private serialize(): Bytes {
    const out: Bytes = [];
    if (this.type === QUIC_TYPE.SHORT) {
      out.push(0x00, ...this.destCid);
      if (this.pn > 0) out.push(...packetNumber(this.pn, this.pnLength));
      return [...out, ...this.payload];
    }
    out.push(QUIC_LONG_FLAGS[this.type]!, ...be32(this.ver));
    const destLength = Math.min(this.destCid.length, 8);
    out.push(destLength);
    if (destLength > 0) out.push(...Array.from({ length: 8 }, (_, i) => this.destCid[i] ?? 0));
    const srcLength = Math.min(this.srcCid.length, 8);
    out.push(srcLength, ...this.srcCid.slice(0, srcLength));
    if (this.type === QUIC_TYPE.INITIAL) out.push(...varint(this.tokenBytes.length), ...this.tokenBytes);
    if (this.type !== QUIC_TYPE.RETRY) {
      let remaining = 0;
      if (this.pn > 0) remaining = this.pnLength;
      else if (this.payload.length > 0) remaining = this.type === QUIC_TYPE.INITIAL ? this.payload.length : 1;
      out.push(...varint(remaining));
      if (this.pn > 0) out.push(...packetNumber(this.pn, this.pnLength));
    }
    return [...out, ...this.payload];
  }
}

export class PacketBuilder {
  private readonly stack: Header[] = [];

  static newPacket(): PacketBuilder {
    return new PacketBuilder();
  }

  /** Adds a header as is (QuicBuilder's exit). */
  raw(header: Header): this {
    this.stack.push(header);
    return this;
  }

  Eth(src = '0x1', dst = '0x2'): this {
    return this.raw(new EthernetHeader(mac(src), mac(dst)));
  }

  IPv4(src: string, dst: string, ttl = 64, tos = 0, id = 1, flags = 0, ihl = 5): this {
    return this.raw(new Ipv4Header(address(src, 4), address(dst, 4), ttl, tos, id, flags, ihl));
  }

  IPv6(src: string, dst: string, hopLimit = 64, trafficClass = 0, flowLabel = 0, nextHeader = 0): this {
    return this.raw(new Ipv6Header(address(src, 6), address(dst, 6), hopLimit, trafficClass, flowLabel, nextHeader));
  }

  UDP(sport: number, dport: number): this {
    return this.raw(new UdpHeader(port(sport, 'source'), port(dport, 'destination'), false));
  }

  UDPZeroChecksum(sport: number, dport: number): this {
    return this.raw(new UdpHeader(port(sport, 'source'), port(dport, 'destination'), true));
  }

  /** Default flags: ACK | PSH. */
  TCP(sport: number, dport: number, seq = 0, ack = 0, window = 8192, flags = 0x18): this {
    return this.raw(new TcpHeader(port(sport, 'source'), port(dport, 'destination'), seq >>> 0, ack >>> 0, window, flags));
  }

  private lastTcp(what: string): TcpHeader {
    const last = this.stack[this.stack.length - 1];
    if (!(last instanceof TcpHeader)) throw new PacketBuilderError(`${what}() must follow TCP()`);
    return last;
  }

  /** katran's server-id option (kind 0xB7): the id's four bytes, least significant first. */
  withTPR(id: number): this {
    this.lastTcp('withTPR').addOption(TCP_OPTION_TPR, [id & 0xff, (id >>> 8) & 0xff, (id >>> 16) & 0xff, (id >>> 24) & 0xff]);
    return this;
  }
  withMSS(mss: number): this {
    this.lastTcp('withMSS').addOption(2, be16(mss));
    return this;
  }
  withWindowScale(scale: number): this {
    if (scale > 14) throw new PacketBuilderError(`window scale must be 0-14, got ${scale}`);
    this.lastTcp('withWindowScale').addOption(3, [scale]);
    return this;
  }
  withTimestamp(tsval: number, tsecr = 0): this {
    this.lastTcp('withTimestamp').addOption(8, [...be32(tsval), ...be32(tsecr)]);
    return this;
  }
  withSACKPermitted(): this {
    this.lastTcp('withSACKPermitted').addOption(4);
    return this;
  }
  withNOP(count = 1): this {
    if (count < 1) throw new PacketBuilderError(`NOP count must be positive, got ${count}`);
    for (let i = 0; i < count; i++) this.lastTcp('withNOP').addOption(1);
    return this;
  }
  withCustomOption(kind: number, data: Bytes = []): this {
    this.lastTcp('withCustomOption').addOption(kind, data);
    return this;
  }

  payload(bytes: Bytes): this {
    return this.raw(new PayloadHeader([...bytes]));
  }

  ICMP(type = 8, code = 0, id = 0, sequence = 0): this {
    return this.raw(new IcmpHeader(type, code, id, sequence));
  }

  ICMPv6(type = 128, code = 0, id = 0, sequence = 0): this {
    return this.raw(new Icmpv6Header(type, code, id, sequence));
  }

  ARP(opcode = 1, senderMac = '00:00:00:00:00:00', senderIp = '0.0.0.0', targetMac = '00:00:00:00:00:00', targetIp = '0.0.0.0'): this {
    return this.raw(new ArpHeader(opcode, mac(senderMac), address(senderIp, 4), mac(targetMac), address(targetIp, 4)));
  }

  QUICInitial(): QuicBuilder {
    return new QuicBuilder(QUIC_TYPE.INITIAL, this);
  }
  QUICHandshake(): QuicBuilder {
    return new QuicBuilder(QUIC_TYPE.HANDSHAKE, this);
  }
  QUICRetry(): QuicBuilder {
    return new QuicBuilder(QUIC_TYPE.RETRY, this);
  }
  QUIC0RTT(): QuicBuilder {
    return new QuicBuilder(QUIC_TYPE.ZERO_RTT, this);
  }
  QUICShortHeader(): QuicBuilder {
    return new QuicBuilder(QUIC_TYPE.SHORT, this);
  }

  build(): Uint8Array {
    if (this.stack.length === 0) throw new PacketBuilderError('cannot build a packet with no headers');
    this.stack.forEach((h, i) => {
      const next = this.stack[i + 1];
      if (next) h.followedBy?.(next.kind);
    });
    let packet: Bytes = [];
    for (let i = this.stack.length - 1; i >= 0; i--) packet = this.stack[i]!.serialize(i, this.stack, packet);
    return Uint8Array.from(packet);
  }
}
