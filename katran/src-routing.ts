// Source-routing rules, as KatranLb keeps them: a client network (CIDR) -> a real. The
// data plane looks a VIP-with-SRC_ROUTING packet's source address up in the LPM tries
// lpm_src_v4 / lpm_src_v6 and, on a match, sends it to the real index stored there
// instead of hashing it onto the ring. The destination is a real like any other: it takes
// a reference on the address's real index (created, and written to `reals`, if new), one
// reference per rule, dropped when the rule goes.
//
// Differences from KatranLb, in line with the rest of the control plane: a malformed
// network rejects the whole request (katran skips it and counts an error), and adding a
// rule for a network that already has one replaces it and drops the old destination's
// reference (katran overwrites the mapping but keeps the old reference forever).

import { type Cidr, formatCidr, parseCidr } from './cidr.js';
import { KatranError } from './errors.js';
import { formatIp, parseIp } from './ip.js';
import type { KatranMaps } from './maps/maps.js';
import type { CreatedReal, SharedReals } from './shared-reals.js';
import { encodeLpmSrcKey, u32le } from './maps/structs.js';

/** katran's default bound on the number of rules (kDefaultMaxLpmSrcSize, = MAX_LPM_SRC). */
export const DEFAULT_MAX_LPM_SRC_SIZE = 3_000_000;

interface Rule {
  network: Cidr;
  realNum: number;
}

const mapFor = (c: Cidr): string => (c.addr.family === 4 ? 'lpm_src_v4' : 'lpm_src_v6');

export class SrcRoutingRules {
  /** By formatCidr(network). */
  private readonly rules = new Map<string, Rule>();

  constructor(
    private readonly maps: KatranMaps,
    private readonly reals: SharedReals,
    private readonly maxRules: number,
  ) {}

  get size(): number {
    return this.rules.size;
  }

  private parseNetworks(op: string, srcs: readonly string[]): Cidr[] {
    if (!Array.isArray(srcs)) throw new KatranError(op, 'sources must be a list of networks');
    return srcs.map((text, i) => {
      const parsed = typeof text === 'string' ? parseCidr(text) : 'is not a string';
      if (typeof parsed === 'string') throw new KatranError(op, `source #${i} ${JSON.stringify(text)} ${parsed}`);
      return parsed;
    });
  }

  private requireMap(op: string, network: Cidr): void {
    if (!this.maps.describe(mapFor(network))) {
      throw new KatranError(op, `the object has no map ${mapFor(network)} (no source routing for IPv${network.addr.family})`);
    }
  }

  /** Routes every network in `srcs` to the real `dst`. All or nothing. */
  add(srcs: readonly string[], dst: string): void {
    const op = `addSrcRoutingRule(-> ${dst})`;
    const dstAddr = typeof dst === 'string' ? parseIp(dst) : undefined;
    if (!dstAddr) throw new KatranError(op, `destination ${JSON.stringify(dst)} is not an IPv4 or IPv6 address`);
    const networks = this.parseNetworks(op, srcs);

    const rules = new Map(this.rules);
    const registry = this.reals.draft();
    const created: CreatedReal[] = [];
    for (const network of networks) {
      this.requireMap(op, network);
      const key = formatCidr(network);
      const previous = rules.get(key);
      // Take the new reference before dropping the old one: re-adding a rule with the same
      // destination must not free (and renumber) its real in between.
      const got = registry.acquire(dstAddr, 0);
      if (!got) throw new KatranError(op, `no free real index for ${dst} (maxReals ${registry.maxReals})`);
      if (got.created) created.push({ num: got.entry.num, addr: dstAddr, flags: 0 });
      if (previous) registry.release(previous.realNum);
      rules.set(key, { network, realNum: got.entry.num });
    }
    this.checkRoom(op, rules);

    this.reals.commit(registry, created, () => {
      for (const network of networks) {
        const rule = rules.get(formatCidr(network))!;
        this.maps.update(mapFor(network), encodeLpmSrcKey(network.addr, network.prefixLen), u32le(rule.realNum));
      }
    });
    this.replaceRules(rules);
  }

  /**
   * Throws what add() would if the object lacks a map for these networks or has no room
   * for them; writes nothing. For callers validating a whole plan first (config files).
   */
  checkFits(srcs: readonly string[]): void {
    const op = 'addSrcRoutingRule';
    const rules = new Map(this.rules);
    for (const network of this.parseNetworks(op, srcs)) {
      this.requireMap(op, network);
      rules.set(formatCidr(network), { network, realNum: 0 });
    }
    this.checkRoom(op, rules);
  }

  /** katran's bound on the number of rules, and the maps' (the kernel refuses inserts past max_entries). */
  private checkRoom(op: string, rules: Map<string, Rule>): void {
    if (rules.size > this.maxRules) throw new KatranError(op, `${rules.size} source-routing rules exceed the limit ${this.maxRules}`);
    for (const family of [4, 6] as const) {
      const name = family === 4 ? 'lpm_src_v4' : 'lpm_src_v6';
      const count = [...rules.values()].filter((r) => r.network.addr.family === family).length;
      const capacity = this.maps.describe(name)?.maxEntries ?? 0;
      if (count > capacity) throw new KatranError(op, `${count} IPv${family} rules exceed ${name} max_entries ${capacity}`);
    }
  }

  /** Removes the rules for `srcs`; networks without a rule are ignored and reported. */
  del(srcs: readonly string[]): string[] {
    const op = 'delSrcRoutingRule';
    const networks = this.parseNetworks(op, srcs);
    const rules = new Map(this.rules);
    const registry = this.reals.draft();
    const ignored: string[] = [];
    const removed: Cidr[] = [];
    for (const network of networks) {
      const key = formatCidr(network);
      const rule = rules.get(key);
      if (!rule) {
        ignored.push(`${key}: no source-routing rule`);
        continue;
      }
      registry.release(rule.realNum);
      rules.delete(key);
      removed.push(network);
    }
    this.reals.commit(registry, [], () => {
      for (const network of removed) this.maps.delete(mapFor(network), encodeLpmSrcKey(network.addr, network.prefixLen));
    });
    this.replaceRules(rules);
    return ignored;
  }

  clear(): void {
    this.del([...this.rules.keys()]);
  }

  /** network -> destination address, as katran lists them. */
  list(): Map<string, string> {
    const registry = this.reals.current();
    return new Map([...this.rules].map(([key, rule]) => [key, formatIp(registry.atIndex(rule.realNum)!.addr)]));
  }

  private replaceRules(rules: Map<string, Rule>): void {
    this.rules.clear();
    for (const [k, v] of rules) this.rules.set(k, v);
  }
}
