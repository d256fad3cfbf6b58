// Byte-exact encodings of the structs katran's maps hold (KATRAN.md section 1). Addresses
// occupy 16 bytes: IPv4 in the first 4 (network order), the rest zero. Ports are stored in
// network order; every other integer is native (little-endian, the object is ELF64 LE).

import { type IpAddress, addressToMapBytes } from '../ip.js';

export const VIP_DEFINITION_SIZE = 20;
export const VIP_META_SIZE = 8;
export const REAL_DEFINITION_SIZE = 20;
export const FLOW_KEY_SIZE = 40;
export const REAL_POS_LRU_SIZE = 16;
export const CTL_VALUE_SIZE = 8;
export const LB_STATS_SIZE = 16;

/** real_definition.flags bit 0: the real is IPv6 (derived from the address, never from the user). */
export const REAL_FLAG_IPV6 = 1;

// u32 keys and values are built and read in bulk (a ring is 65537 of them): plain byte
// arithmetic, no DataView per call.
export function u32le(value: number): Uint8Array {
  return new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]);
}

export function readU32le(bytes: Uint8Array, offset = 0): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

export function readU64le(bytes: Uint8Array, offset = 0): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset, true);
}

/** vip_definition: addr[16], port (network order) @16, proto @18, pad @19. */
export function encodeVipDefinition(addr: IpAddress, port: number, proto: number): Uint8Array {
  const out = new Uint8Array(VIP_DEFINITION_SIZE);
  out.set(addressToMapBytes(addr), 0);
  out[16] = (port >> 8) & 0xff;
  out[17] = port & 0xff;
  out[18] = proto & 0xff;
  return out;
}

/** vip_meta: flags u32 @0, vip_num u32 @4. */
export function encodeVipMeta(flags: number, vipNum: number): Uint8Array {
  const out = new Uint8Array(VIP_META_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(0, flags >>> 0, true);
  view.setUint32(4, vipNum >>> 0, true);
  return out;
}

export function decodeVipMeta(bytes: Uint8Array): { flags: number; vipNum: number } {
  return { flags: readU32le(bytes, 0), vipNum: readU32le(bytes, 4) };
}

/** real_definition: addr[16], flags u8 @16 (bit 0 = IPv6, forced from the address family). */
export function encodeRealDefinition(addr: IpAddress, userFlags: number): Uint8Array {
  const out = new Uint8Array(REAL_DEFINITION_SIZE);
  out.set(addressToMapBytes(addr), 0);
  out[16] = (userFlags & 0xff & ~REAL_FLAG_IPV6) | (addr.family === 6 ? REAL_FLAG_IPV6 : 0);
  return out;
}

export interface FlowKey {
  src: IpAddress;
  dst: IpAddress;
  srcPort: number;
  dstPort: number;
  proto: number;
}

/** flow_key: src[16], dst[16], src port @32 and dst port @34 (network order), proto @36, pad 0. */
export function encodeFlowKey(flow: FlowKey): Uint8Array {
  const out = new Uint8Array(FLOW_KEY_SIZE);
  out.set(addressToMapBytes(flow.src), 0);
  out.set(addressToMapBytes(flow.dst), 16);
  out[32] = (flow.srcPort >> 8) & 0xff;
  out[33] = flow.srcPort & 0xff;
  out[34] = (flow.dstPort >> 8) & 0xff;
  out[35] = flow.dstPort & 0xff;
  out[36] = flow.proto & 0xff;
  return out;
}

/** real_pos_lru: pos u32 @0, atime u64 @8 (ns; 0 for TCP). */
export function decodeRealPosLru(bytes: Uint8Array): { pos: number; atime: bigint } {
  return { pos: readU32le(bytes, 0), atime: readU64le(bytes, 8) };
}

/** ctl_value holding a MAC: bytes 0-5, the last two zero. */
export function encodeCtlMac(mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(CTL_VALUE_SIZE);
  out.set(mac.subarray(0, 6), 0);
  return out;
}

export interface LbStats {
  v1: bigint;
  v2: bigint;
}

export function decodeLbStats(bytes: Uint8Array): LbStats {
  return { v1: readU64le(bytes, 0), v2: readU64le(bytes, 8) };
}

/** lb_quic_packets_stats: 13 u64 counters in this order. */
export const QUIC_STATS_FIELDS = [
  'ch_routed',
  'cid_initial',
  'cid_invalid_server_id',
  'cid_invalid_server_id_sample',
  'cid_routed',
  'cid_unknown_real_dropped',
  'cid_v0',
  'cid_v1',
  'cid_v2',
  'cid_v3',
  'dst_match_in_lru',
  'dst_mismatch_in_lru',
  'dst_not_found_in_lru',
] as const;
/** lb_tpr_packets_stats. */
export const TPR_STATS_FIELDS = ['ch_routed', 'dst_mismatch_in_lru', 'sid_routed', 'tcp_syn'] as const;
/** lb_stable_rt_packets_stats. */
export const STABLE_RT_STATS_FIELDS = [
  'ch_routed',
  'cid_routed',
  'cid_invalid_server_id',
  'cid_unknown_real_dropped',
  'invalid_packet_type',
] as const;

/** Decodes a struct of consecutive u64 counters into a record keyed by field name. */
export function decodeCounters<F extends string>(fields: readonly F[], bytes: Uint8Array): Record<F, bigint> {
  const out = {} as Record<F, bigint>;
  fields.forEach((f, i) => {
    out[f] = readU64le(bytes, 8 * i);
  });
  return out;
}

/**
 * Key of lpm_src_v4 (8 bytes) / lpm_src_v6 (20): prefix length u32 (native), then the
 * network address in network order (4 or 16 bytes, by family).
 */
export function encodeLpmSrcKey(addr: IpAddress, prefixLen: number): Uint8Array {
  const out = new Uint8Array(4 + addr.bytes.length);
  out.set(u32le(prefixLen), 0);
  out.set(addr.bytes, 4);
  return out;
}

/** Key of decap_dst: the 16-byte address form (IPv4 in the first 4 bytes, network order). */
export const encodeDecapDstKey = (addr: IpAddress): Uint8Array => addressToMapBytes(addr);

export const HC_REAL_DEFINITION_SIZE = 20;

/**
 * hc_reals_map value: address union (16 bytes), flags u8 @16 (1 = IPv6), 3 pad bytes.
 * katran's healthchecker hands an IPv4 destination to metadata-based tunnels, which want
 * it as a host-order u32 (native, so little-endian bytes); only a healthchecker built
 * for direct healthchecking (its object has hc_pckt_srcs_map) takes network order. IPv6
 * is network order either way.
 */
export function encodeHcRealDefinition(addr: IpAddress, direct: boolean): Uint8Array {
  const out = new Uint8Array(HC_REAL_DEFINITION_SIZE);
  if (addr.family === 6) {
    out.set(addr.bytes, 0);
    out[16] = REAL_FLAG_IPV6;
  } else {
    out.set(direct ? addr.bytes : addr.bytes.slice().reverse(), 0);
  }
  return out;
}
