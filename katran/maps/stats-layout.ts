// Global counters of the `stats` map live after the per-VIP slots, at maxVips + offset
// (KATRAN.md section 2). Offsets of counters this build never updates are listed too,
// since KatranLb's getters read them all the same.

export const GLOBAL_STATS = {
  LRU_CNTRS: 0,
  LRU_MISS: 1,
  NEW_CONN_RATE: 2,
  FALLBACK_LRU: 3,
  ICMP_TOOBIG: 4,
  LPM_SRC: 5,
  REMOTE_ENCAP: 6,
  ENCAP_FAIL: 7,
  GLOBAL_LRU: 8,
  CH_DROP: 9,
  DECAP: 10,
  QUIC_ICMP: 11,
  ICMP_PTB_V6: 12,
  ICMP_PTB_V4: 13,
  XPOP_DECAP: 14,
  UDP_FLOW_MIGRATION: 15,
  XDP_TOTAL: 16,
  XDP_TX: 17,
  XDP_DROP: 18,
  XDP_PASS: 19,
  EGRESS_DECAP: 20,
  LPM_VIP: 21,
} as const;

export type GlobalStat = keyof typeof GLOBAL_STATS;
