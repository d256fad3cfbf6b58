// Healthcheck destinations, as KatranLb keeps them: socket mark -> address. katran's
// healthchecking program (a tc program in its own object) redirects health-check packets
// carrying a socket mark to the address hc_reals_map holds for it. Without that map
// katran's library refuses (health checking off) and its gRPC server answers CANCELLED;
// so does this one. At most maxReals marks, as in katran.

import { KatranError } from './errors.js';
import { type IpAddress, formatIp, parseIp } from './ip.js';
import type { KatranMaps } from './maps/maps.js';
import { encodeHcRealDefinition, u32le } from './maps/structs.js';

const MAP = 'hc_reals_map';
/** Present only in healthcheckers built for direct healthchecking (katran's feature test). */
const DIRECT_HC_MAP = 'hc_pckt_srcs_map';

export class HealthcheckDsts {
  private readonly dsts = new Map<number, IpAddress>();

  constructor(
    private readonly maps: KatranMaps,
    private readonly maxReals: number,
  ) {}

  /** Whether the object has katran's healthchecker map. */
  get available(): boolean {
    return this.maps.describe(MAP) !== undefined;
  }

  private requireMap(op: string): void {
    if (!this.available) throw new KatranError(op, `the object has no map ${MAP} (health checking is not configured)`);
  }

  private checkSomark(op: string, somark: number): void {
    if (!Number.isInteger(somark) || somark < 0 || somark > 0xffffffff) throw new KatranError(op, `somark ${somark} is not a u32`);
  }

  /** The most marks this object takes: katran's bound (maxReals), or the map's if smaller. */
  get limit(): number {
    return Math.min(this.maxReals, this.maps.describe(MAP)?.maxEntries ?? 0);
  }

  add(somark: number, dst: string): void {
    const op = `addHealthcheckerDst(${somark})`;
    this.requireMap(op);
    this.checkSomark(op, somark);
    const addr = typeof dst === 'string' ? parseIp(dst) : undefined;
    if (!addr) throw new KatranError(op, `destination ${JSON.stringify(dst)} is not an IPv4 or IPv6 address`);
    if (!this.dsts.has(somark) && this.dsts.size >= this.limit)
      throw new KatranError(op, `healthcheck destinations are full (${this.limit})`);
    const direct = this.maps.describe(DIRECT_HC_MAP) !== undefined;
    this.maps.update(MAP, u32le(somark), encodeHcRealDefinition(addr, direct));
    this.dsts.set(somark, addr);
  }

  del(somark: number): void {
    const op = `delHealthcheckerDst(${somark})`;
    this.requireMap(op);
    this.checkSomark(op, somark);
    if (!this.dsts.has(somark)) throw new KatranError(op, 'no healthcheck with this somark');
    this.maps.delete(MAP, u32le(somark));
    this.dsts.delete(somark);
  }

  /** somark -> address (empty without hc_reals_map, as katran's library answers). */
  list(): Map<number, string> {
    return new Map([...this.dsts].map(([somark, addr]) => [somark, formatIp(addr)]));
  }
}
