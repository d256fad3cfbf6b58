// Which ring slot katran's data plane picks for a flow (KATRAN.md section 3, "Consistent
// hashing"), so tests and tools can predict the real without running the program.

import { type IpAddress } from '../ip.js';
import { jhash, jhash2Words } from './jhash.js';

export const VIP_FLAG = {
  HASH_NO_SRC_PORT: 1,
  LRU_BYPASS: 2,
  QUIC_VIP: 4,
  HASH_DPORT_ONLY: 8,
  SRC_ROUTING: 16,
  LOCAL_VIP: 32,
  GLOBAL_LRU: 64,
  HASH_SRC_DST_PORT: 128,
  UDP_STABLE_ROUTING_VIP: 256,
  UDP_FLOW_MIGRATION: 512,
} as const;

export interface HashedFlow {
  src: IpAddress;
  srcPort: number;
  /** The destination port as the program sees it (0 after a port-0 VIP match without flags 8/128). */
  dstPort: number;
}

export interface FlowHashParams {
  ringSize: number;
  /** jhash_2words seed: MAX_VIPS * RING_SIZE of the object (33554944 by default). */
  chSeed: number;
  /** Seed of the inner jhash over an IPv6 source: MAX_VIPS (512 by default). */
  v6Seed: number;
}

export const DEFAULT_FLOW_HASH: FlowHashParams = { ringSize: 65537, chSeed: 512 * 65537, v6Seed: 512 };

/** The 32-bit hash the data plane computes before `% ringSize`. */
export function flowHash(flow: HashedFlow, vipFlags: number, p: FlowHashParams = DEFAULT_FLOW_HASH): number {
  let srcPort = flow.srcPort;
  let src = flow.src.bytes;
  if (vipFlags & VIP_FLAG.HASH_NO_SRC_PORT) srcPort = 0;
  if (vipFlags & VIP_FLAG.HASH_DPORT_ONLY) {
    srcPort = flow.dstPort;
    src = new Uint8Array(src.length);
  }
  // The program loads the four port bytes (network order) as one native u32.
  const ports = ((srcPort >> 8) | ((srcPort & 0xff) << 8) | ((flow.dstPort >> 8) << 16) | ((flow.dstPort & 0xff) << 24)) >>> 0;
  const srcWord = flow.src.family === 4 ? (src[0]! | (src[1]! << 8) | (src[2]! << 16) | (src[3]! << 24)) >>> 0 : jhash(src, p.v6Seed);
  return jhash2Words(srcWord, ports, p.chSeed);
}

export function flowRingSlot(flow: HashedFlow, vipFlags: number, p: FlowHashParams = DEFAULT_FLOW_HASH): number {
  return flowHash(flow, vipFlags, p) % p.ringSize;
}
