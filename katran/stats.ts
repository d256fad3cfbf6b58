// katran's statistics getters: the per-CPU counters the data plane keeps (lb_stats pairs,
// per-real LRU misses, QUIC / TPR / stable-routing counter blocks), summed over CPUs as
// katran's library sums them. Read-only: nothing here writes a map.

import type { KatranMaps } from './maps/maps.js';
import { GLOBAL_STATS, type GlobalStat } from './maps/stats-layout.js';
import {
  type LbStats,
  QUIC_STATS_FIELDS,
  STABLE_RT_STATS_FIELDS,
  TPR_STATS_FIELDS,
  decodeCounters,
  decodeLbStats,
  readU32le,
  u32le,
} from './maps/structs.js';
import type { VipKey } from './control-plane.js';

export class KatranStats {
  constructor(
    private readonly maps: KatranMaps,
    /** Slots of `stats` before the global counters (katran's maxVips). */
    private readonly maxVips: number,
    /** vip_num of a VIP, or undefined for one that is not configured. */
    private readonly vipNum: (vip: VipKey) => number | undefined,
  ) {}

  /** lb_stats at `index` of a per-CPU map, summed over possible CPUs. */
  getLbStats(index: number, map = 'stats'): LbStats {
    const perCpu = this.maps.lookupPerCpu(map, u32le(index)) ?? [];
    const sum: LbStats = { v1: 0n, v2: 0n };
    for (const v of perCpu) {
      const s = decodeLbStats(v);
      sum.v1 += s.v1;
      sum.v2 += s.v2;
    }
    return sum;
  }

  /** One of the global counters kept in `stats` after the per-VIP slots. */
  getGlobalStats(which: GlobalStat): LbStats {
    return this.getLbStats(this.maxVips + GLOBAL_STATS[which]);
  }

  /** Per-VIP packets/bytes; zeros for an unknown VIP, as katran answers. */
  getStatsForVip(vip: VipKey): LbStats {
    const num = this.vipNum(vip);
    return num === undefined ? { v1: 0n, v2: 0n } : this.getLbStats(num);
  }

  getDecapStatsForVip(vip: VipKey): LbStats {
    const num = this.vipNum(vip);
    return num === undefined ? { v1: 0n, v2: 0n } : this.getLbStats(num, 'decap_vip_stats');
  }

  getSidRoutingStatsForVip(vip: VipKey): LbStats {
    const num = this.vipNum(vip);
    return num === undefined ? { v1: 0n, v2: 0n } : this.getLbStats(num, 'server_id_stats');
  }

  getRealStats(index: number): LbStats {
    return this.getLbStats(index, 'reals_stats');
  }

  getLruStats(): LbStats {
    return this.getGlobalStats('LRU_CNTRS');
  }
  getLruMissStats(): LbStats {
    return this.getGlobalStats('LRU_MISS');
  }
  getLruFallbackStats(): LbStats {
    return this.getGlobalStats('FALLBACK_LRU');
  }
  getIcmpTooBigStats(): LbStats {
    return this.getGlobalStats('ICMP_TOOBIG');
  }
  getEncapFailStats(): LbStats {
    return this.getGlobalStats('ENCAP_FAIL');
  }
  getChDropStats(): LbStats {
    return this.getGlobalStats('CH_DROP');
  }
  getQuicIcmpStats(): LbStats {
    return this.getGlobalStats('QUIC_ICMP');
  }
  getIcmpPtbV6Stats(): LbStats {
    return this.getGlobalStats('ICMP_PTB_V6');
  }
  getIcmpPtbV4Stats(): LbStats {
    return this.getGlobalStats('ICMP_PTB_V4');
  }
  getUdpFlowMigrationStats(): LbStats {
    return this.getGlobalStats('UDP_FLOW_MIGRATION');
  }
  getXdpTotalStats(): LbStats {
    return this.getGlobalStats('XDP_TOTAL');
  }
  getXdpTxStats(): LbStats {
    return this.getGlobalStats('XDP_TX');
  }
  getXdpDropStats(): LbStats {
    return this.getGlobalStats('XDP_DROP');
  }
  getXdpPassStats(): LbStats {
    return this.getGlobalStats('XDP_PASS');
  }

  /** lru_miss_stats[realIndex] (u32 per CPU), summed. */
  getLruMissStatsForReal(realIndex: number): bigint {
    const perCpu = this.maps.lookupPerCpu('lru_miss_stats', u32le(realIndex)) ?? [];
    return perCpu.reduce((sum, v) => sum + BigInt(readU32le(v)), 0n);
  }

  private sumCounters<F extends string>(map: string, fields: readonly F[]): Record<F, bigint> {
    const sum = decodeCounters(fields, new Uint8Array(8 * fields.length));
    for (const v of this.maps.lookupPerCpu(map, u32le(0)) ?? []) {
      const c = decodeCounters(fields, v);
      for (const f of fields) sum[f] += c[f];
    }
    return sum;
  }

  /** quic_stats_map[0] summed (cid_invalid_server_id_sample is summed too; katran logs it instead). */
  getLbQuicPacketsStats(): Record<(typeof QUIC_STATS_FIELDS)[number], bigint> {
    return this.sumCounters('quic_stats_map', QUIC_STATS_FIELDS);
  }

  getTcpServerIdRoutingStats(): Record<(typeof TPR_STATS_FIELDS)[number], bigint> {
    return this.sumCounters('tpr_stats_map', TPR_STATS_FIELDS);
  }

  getUdpStableRoutingStats(): Record<(typeof STABLE_RT_STATS_FIELDS)[number], bigint> {
    return this.sumCounters('stable_rt_stats', STABLE_RT_STATS_FIELDS);
  }
}
