// Real indexes, as KatranLb hands them out: one index per IP address, shared by every VIP
// and QUIC mapping that uses the address, counted by reference and recycled at zero.
// Index 0 is never used: zero-filled arrays (ch_rings, server_id_map) read 0 as "unset".
// Free indexes form a FIFO (allocation takes the front, release appends), so indexes are
// reused in katran's order.

import { type IpAddress, formatIp, unmapV4 } from './ip.js';

export interface RealEntry {
  num: number;
  /** The address as first created (a v4-mapped IPv6 keeps its IPv6 form in maps). */
  addr: IpAddress;
  refCount: number;
  /** User flags, bit 0 (IPv6) excluded. */
  flags: number;
}

/** folly::IPAddress equality: a v4-mapped IPv6 address is the same real as its IPv4 address. */
export const realKey = (addr: IpAddress): string => formatIp(unmapV4(addr));

export class RealRegistry {
  private free: number[] = [];
  private byKey = new Map<string, RealEntry>();
  private byNum = new Map<number, string>();

  constructor(
    readonly maxReals: number,
    fill = true,
  ) {
    if (fill) for (let i = 1; i < maxReals; i++) this.free.push(i);
  }

  /** An independent copy, so a request can be planned and dropped if it fails. */
  clone(): RealRegistry {
    const copy = new RealRegistry(this.maxReals, false);
    copy.free = [...this.free];
    copy.byKey = new Map([...this.byKey].map(([k, e]) => [k, { ...e }]));
    copy.byNum = new Map(this.byNum);
    return copy;
  }

  get(addr: IpAddress): RealEntry | undefined {
    return this.byKey.get(realKey(addr));
  }

  atIndex(num: number): RealEntry | undefined {
    const key = this.byNum.get(num);
    return key === undefined ? undefined : this.byKey.get(key);
  }

  get freeCount(): number {
    return this.free.length;
  }

  /**
   * Takes a reference on the real, creating it (with these flags) if new. Undefined when
   * a new index is needed and none is free.
   */
  acquire(addr: IpAddress, flags: number): { entry: RealEntry; created: boolean } | undefined {
    const existing = this.get(addr);
    if (existing) {
      existing.refCount++;
      return { entry: existing, created: false };
    }
    const num = this.free.shift();
    if (num === undefined) return undefined;
    const entry: RealEntry = { num, addr, refCount: 1, flags: flags & 0xfe };
    this.byKey.set(realKey(addr), entry);
    this.byNum.set(num, realKey(addr));
    return { entry, created: true };
  }

  /** Drops a reference; returns true if that freed the real's index. */
  release(num: number): boolean {
    const key = this.byNum.get(num);
    const entry = key === undefined ? undefined : this.byKey.get(key);
    if (!entry || key === undefined) return false;
    if (--entry.refCount > 0) return false;
    this.byKey.delete(key);
    this.byNum.delete(num);
    this.free.push(num);
    return true;
  }

  entries(): RealEntry[] {
    return [...this.byKey.values()];
  }
}
