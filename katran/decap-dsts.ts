// Inline-decapsulation destinations, as KatranLb keeps them: addresses whose IPIP /
// IPv6-in-IPv6 packets the data plane decapsulates itself. The decap_dst hash map holds
// the address (16-byte form) -> u32 flags; KatranLb writes flags 0 for inline decap.
// katran bounds the set by its maxDecapDst setting (6 by default), well below the map's
// max_entries.

import { KatranError } from './errors.js';
import { type IpAddress, formatIp, parseIp } from './ip.js';
import type { KatranMaps } from './maps/maps.js';
import { realKey } from './real-registry.js';
import { encodeDecapDstKey, u32le } from './maps/structs.js';

/** katran's kDefaultMaxDecapDstSize. */
export const DEFAULT_MAX_DECAP_DST = 6;
const MAP = 'decap_dst';
const INLINE_DECAP_FLAGS = 0;

export class InlineDecapDsts {
  /** By realKey (folly equality: a v4-mapped IPv6 address is its IPv4 address). */
  private readonly dsts = new Map<string, IpAddress>();

  constructor(
    private readonly maps: KatranMaps,
    private readonly maxDsts: number,
  ) {}

  get available(): boolean {
    return this.maps.describe(MAP) !== undefined;
  }

  private parse(op: string, dst: string): IpAddress {
    if (!this.available) throw new KatranError(op, `the object has no map ${MAP} (no inline decapsulation)`);
    const addr = typeof dst === 'string' ? parseIp(dst) : undefined;
    if (!addr) throw new KatranError(op, `${JSON.stringify(dst)} is not an IPv4 or IPv6 address`);
    return addr;
  }

  /** The most destinations this object takes: katran's bound, or the map's if smaller. */
  get limit(): number {
    return Math.min(this.maxDsts, this.maps.describe(MAP)?.maxEntries ?? 0);
  }

  add(dst: string): void {
    const op = `addInlineDecapDst(${dst})`;
    const addr = this.parse(op, dst);
    if (this.dsts.has(realKey(addr))) throw new KatranError(op, 'already a decap destination');
    if (this.dsts.size + 1 > this.limit) throw new KatranError(op, `decap destinations are full (${this.limit})`);
    this.maps.update(MAP, encodeDecapDstKey(addr), u32le(INLINE_DECAP_FLAGS));
    this.dsts.set(realKey(addr), addr);
  }

  del(dst: string): void {
    const op = `delInlineDecapDst(${dst})`;
    const key = realKey(this.parse(op, dst));
    const addr = this.dsts.get(key);
    if (!addr) throw new KatranError(op, 'not a decap destination');
    this.maps.delete(MAP, encodeDecapDstKey(addr));
    this.dsts.delete(key);
  }

  has(dst: string): boolean {
    const addr = parseIp(dst);
    return addr !== undefined && this.dsts.has(realKey(addr));
  }

  list(): string[] {
    return [...this.dsts.values()].map(formatIp);
  }
}
