// KatranLb's control-plane logic over an abstract map backend (KatranMaps): VIP numbering,
// real indexes with reference counts, Maglev rings written incrementally, QUIC server ids,
// down-real maps, per-core LRUs and stats. Every request is validated and planned in full
// before the first map write, so a rejected request (KatranError) changes nothing.
//
// Deliberate differences from KatranLb (which logs and skips bad entries of a batch):
// malformed addresses, out-of-range numbers and exhausted VIP/real/id space reject the
// whole request. Entries katran merely ignores (deleting a real the VIP does not have,
// deleting a QUIC mapping that points elsewhere) are still ignored, and reported back.

import { KatranError } from './errors.js';
import { type FlowHashParams, type HashedFlow, flowRingSlot } from './hash/flow-hash.js';
import { follyIpHash } from './hash/folly-hash.js';
import { type IpAddress, formatIp, parseIp } from './ip.js';
import { formatMac, parseMac } from './mac.js';
import { DEFAULT_RING_SIZE, type Endpoint, MaglevVersion, buildRing, sortEndpoints } from './hash/maglev.js';
import { MAP_FLAG, MAP_TYPE } from '../core/map-types.js';
import type { InnerMapHandle, KatranMaps } from './maps/maps.js';
import { RealRegistry, realKey } from './real-registry.js';
import { DEFAULT_MAX_DECAP_DST, InlineDecapDsts } from './decap-dsts.js';
import { HealthcheckDsts } from './healthchecks.js';
import type { CreatedReal, SharedReals } from './shared-reals.js';
import { DEFAULT_MAX_LPM_SRC_SIZE, SrcRoutingRules } from './src-routing.js';
import { encodeCtlMac, encodeRealDefinition, encodeVipDefinition, encodeVipMeta, u32le } from './maps/structs.js';
import { KatranStats } from './stats.js';

export enum ModifyAction {
  ADD = 0,
  DEL = 1,
}

export interface VipKey {
  address: string;
  port: number;
  proto: number;
}

export interface NewReal {
  address: string;
  /** u32; weight 0 keeps the real attached to the VIP but out of the ring. */
  weight: number;
  /** u8; applies only when this call creates the real (see modifyReal). */
  flags?: number;
}

export interface QuicReal {
  address: string;
  id: number;
}

export interface KatranConfig {
  maxVips: number;
  maxReals: number;
  chRingSize: number;
  hashFunction: MaglevVersion;
  /** Total connection-table size, split evenly over forwarding cores. */
  lruSize: number;
  /** CPUs that forward packets; each gets its own LRU in lru_mapping. None: fallback_cache only. */
  forwardingCores: number[];
  /** NUMA node per forwarding core (same length), or empty. */
  numaNodes: number[];
  /** ctl_array[0]: MAC of the default router (next hop of encapsulated packets). */
  defaultMac: Uint8Array | string;
  /** 32-bit QUIC server ids (server_id_map is then a hash map); otherwise ids <= 0xFFFFFE. */
  enableCidV3: boolean;
  /** Most source-routing rules (IPv4 and IPv6 together); the LPM maps may bound it further. */
  maxLpmSrcSize: number;
  /** Most inline-decapsulation destinations. */
  maxDecapDst: number;
  /**
   * Outer source addresses of GUE-encapsulated packets (katran's katranSrcV4 / katranSrcV6),
   * written to pckt_srcs at init when the object encapsulates with GUE (has that map).
   */
  katranSrcV4?: string;
  katranSrcV6?: string;
}

export const DEFAULT_CONFIG: KatranConfig = {
  maxVips: 512,
  maxReals: 4096,
  chRingSize: DEFAULT_RING_SIZE,
  hashFunction: MaglevVersion.V1,
  lruSize: 8_000_000,
  forwardingCores: [],
  numaNodes: [],
  defaultMac: new Uint8Array(6),
  enableCidV3: false,
  maxLpmSrcSize: DEFAULT_MAX_LPM_SRC_SIZE,
  maxDecapDst: DEFAULT_MAX_DECAP_DST,
};

export const MAX_QUIC_ID_V2 = 0xfffffe;
const FALLBACK_LRU_SIZE = 1024;
const LRU_KEY_SIZE = 40;
const LRU_VALUE_SIZE = 16;

/** What a reals / QUIC update did: ring slots rewritten, and entries katran would skip. */
export interface UpdateReport {
  changedSlots: number;
  ignored: string[];
}

interface VipReal {
  weight: number;
  /** folly hash, recorded when the weight last changed (0 for a real only ever added at weight 0). */
  hash: bigint;
}

interface VipState {
  key: VipKey; // as the caller first spelled it
  addr: IpAddress;
  definition: Uint8Array;
  num: number;
  flags: number;
  reals: Map<number, VipReal>;
  /** Last ring written to ch_rings (-1 = never written), allocated on first use. */
  ring?: Int32Array;
}

/** The first `count` u32 as little-endian bytes (the map's native order). */
function leBytes(words: Uint32Array, count: number): Uint8Array {
  const out = new Uint8Array(count * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) view.setUint32(i * 4, words[i]!, true);
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const isUint = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;
const describeVip = (v: VipKey): string => `${v.address}:${v.port}:${v.proto}`;

export class KatranLb {
  readonly config: Readonly<KatranConfig>;
  private readonly freeVipNums: number[] = [];
  private readonly vips = new Map<string, VipState>(); // by vip_definition hex
  private reals: RealRegistry;
  private readonly quicMapping = new Map<number, IpAddress>();
  private mac: Uint8Array;
  private readonly lruMaps = new Map<number, InnerMapHandle>();
  private initialized = false;
  private readonly srcRouting: SrcRoutingRules;
  private readonly gueSources: { key: number; addr: IpAddress }[];
  private readonly decapDsts: InlineDecapDsts;
  private readonly healthchecks: HealthcheckDsts;
  /** The counters the data plane keeps, summed over CPUs (katran's get*Stats calls). */
  readonly stats: KatranStats;

  constructor(
    private readonly maps: KatranMaps,
    config: Partial<KatranConfig> = {},
  ) {
    const c = { ...DEFAULT_CONFIG, ...config };
    this.config = c;
    const op = 'config';
    for (const [name, v, max] of [
      ['maxVips', c.maxVips, 0xffffffff],
      ['maxReals', c.maxReals, 0xffffffff],
      ['chRingSize', c.chRingSize, 0xffffffff],
      ['maxLpmSrcSize', c.maxLpmSrcSize, 0xffffffff],
      ['maxDecapDst', c.maxDecapDst, 0xffffffff],
    ] as const) {
      if (!isUint(v, max) || v < 1) throw new KatranError(op, `${name} ${v} is not a positive integer`);
    }
    if (c.chRingSize < 2) throw new KatranError(op, `chRingSize ${c.chRingSize} must be at least 2`);
    if (c.hashFunction !== MaglevVersion.V1 && c.hashFunction !== MaglevVersion.V2) {
      throw new KatranError(op, `unknown hash function ${c.hashFunction}`);
    }
    this.mac = this.parseMacOrThrow(op, c.defaultMac);
    this.requireCapacity(op, 'vip_map', c.maxVips, 'maxVips');
    this.requireCapacity(op, 'ch_rings', c.maxVips * c.chRingSize, 'maxVips * chRingSize');
    this.requireCapacity(op, 'reals', c.maxReals, 'maxReals');
    // The maps every katran-layout data plane has; QUIC (server_id_map) and the miss
    // statistics are optional for smaller objects and checked where they are used.
    for (const name of ['ctl_array', 'stats', 'lru_mapping']) {
      if (!maps.describe(name)) throw new KatranError(op, `the object has no map ${name}`);
    }
    this.validateCores(op, c);
    for (let i = 0; i < c.maxVips; i++) this.freeVipNums.push(i);
    this.reals = new RealRegistry(c.maxReals);
    this.gueSources = this.parseGueSources(op, c);
    this.srcRouting = new SrcRoutingRules(maps, this.sharedReals(), c.maxLpmSrcSize);
    this.decapDsts = new InlineDecapDsts(maps, c.maxDecapDst);
    this.healthchecks = new HealthcheckDsts(maps, c.maxReals);
    this.stats = new KatranStats(maps, c.maxVips, (vip) => this.findVip(vip)?.num);
  }

  /** The real registry as the features outside this file (source routing) use it. */
  private sharedReals(): SharedReals {
    return {
      current: () => this.reals,
      draft: () => this.reals.clone(),
      commit: (draft: RealRegistry, created: readonly CreatedReal[], writes: () => void) => {
        for (const c of created) this.maps.update('reals', u32le(c.num), encodeRealDefinition(c.addr, c.flags));
        writes();
        this.reals = draft;
      },
    };
  }

  /** katranSrcV4 / katranSrcV6, checked; with their pckt_srcs slots (katran's kSrcV4Pos 0, kSrcV6Pos 1). */
  private parseGueSources(op: string, c: KatranConfig): { key: number; addr: IpAddress }[] {
    return (
      [
        [0, 'katranSrcV4', 4],
        [1, 'katranSrcV6', 6],
      ] as const
    ).flatMap(([key, name, family]) => {
      const text = c[name];
      if (text === undefined || text === '') return [];
      const addr = typeof text === 'string' ? parseIp(text) : undefined;
      if (!addr || addr.family !== family) throw new KatranError(op, `${name} ${JSON.stringify(text)} is not an IPv${family} address`);
      return [{ key, addr }];
    });
  }

  private requireCapacity(op: string, map: string, needed: number, what: string): void {
    const shape = this.maps.describe(map);
    if (!shape) throw new KatranError(op, `the object has no map ${map}`);
    if (shape.maxEntries < needed) {
      throw new KatranError(op, `${what} = ${needed} exceeds ${map} max_entries ${shape.maxEntries}`);
    }
  }

  private validateCores(op: string, c: KatranConfig): void {
    const slots = this.maps.describe('lru_mapping')!.maxEntries;
    const seen = new Set<number>();
    for (const core of c.forwardingCores) {
      if (!isUint(core, slots - 1)) throw new KatranError(op, `forwarding core ${core} outside lru_mapping [0, ${slots - 1}]`);
      if (seen.has(core)) throw new KatranError(op, `forwarding core ${core} listed twice`);
      seen.add(core);
    }
    if (c.numaNodes.length !== 0 && c.numaNodes.length !== c.forwardingCores.length) {
      throw new KatranError(op, `numaNodes has ${c.numaNodes.length} entries, forwardingCores ${c.forwardingCores.length}`);
    }
    if (c.forwardingCores.length > 0 && Math.floor(c.lruSize / c.forwardingCores.length) < 1) {
      throw new KatranError(op, `lruSize ${c.lruSize} leaves no LRU entries per forwarding core`);
    }
  }

  /**
   * What KatranLb does once the program is loaded: the default-router MAC into
   * ctl_array[0], one LRU per forwarding core into lru_mapping, vip_miss_stats[0] zeroed.
   */
  init(): void {
    if (this.initialized) throw new KatranError('init', 'already initialized');
    const c = this.config;
    const perCore = c.forwardingCores.length ? Math.floor(c.lruSize / c.forwardingCores.length) : FALLBACK_LRU_SIZE;
    const created = c.forwardingCores.map((core, i) => {
      const numa = c.numaNodes.length ? c.numaNodes[i] : undefined;
      return [
        core,
        this.maps.createMap({
          name: `katran_lru${core}`,
          type: MAP_TYPE.LRU_HASH,
          keySize: LRU_KEY_SIZE,
          valueSize: LRU_VALUE_SIZE,
          maxEntries: perCore,
          flags: numa === undefined ? 0 : MAP_FLAG.NUMA_NODE,
          ...(numa === undefined ? {} : { numaNode: numa }),
        }),
      ] as const;
    });
    this.maps.update('ctl_array', u32le(0), encodeCtlMac(this.mac));
    for (const [core, handle] of created) {
      this.maps.setInnerMap('lru_mapping', u32le(core), handle);
      this.lruMaps.set(core, handle);
    }
    if (this.maps.describe('vip_miss_stats')) this.maps.update('vip_miss_stats', u32le(0), new Uint8Array(20));
    // An object built for GUE has pckt_srcs; like katran, refuse to run it without a source.
    if (this.maps.describe('pckt_srcs')) {
      if (this.gueSources.length === 0) {
        throw new KatranError(
          'init',
          'the object encapsulates with GUE (it has pckt_srcs): give katranSrcV4 and/or katranSrcV6 (keys of the katran config file)',
        );
      }
      for (const { key, addr } of this.gueSources) this.maps.update('pckt_srcs', u32le(key), encodeRealDefinition(addr, 0));
    }
    this.initialized = true;
  }

  /** The LRU created for a forwarding core, if any. */
  lruMapForCore(core: number): InnerMapHandle | undefined {
    return this.lruMaps.get(core);
  }

  // ---------------------------------------------------------------- validation helpers

  private parseAddress(op: string, what: string, text: unknown): IpAddress {
    const addr = typeof text === 'string' ? parseIp(text) : undefined;
    if (!addr) throw new KatranError(op, `${what} ${JSON.stringify(text)} is not an IPv4 or IPv6 address`);
    return addr;
  }

  private parseMacOrThrow(op: string, mac: Uint8Array | string): Uint8Array {
    const bytes = typeof mac === 'string' ? parseMac(mac) : mac;
    if (!bytes || bytes.length !== 6) throw new KatranError(op, `MAC ${String(mac)} is not 6 bytes (xx:xx:xx:xx:xx:xx)`);
    return bytes.slice();
  }

  private vipDefinition(op: string, vip: VipKey): { addr: IpAddress; definition: Uint8Array } {
    const addr = this.parseAddress(op, 'VIP address', vip?.address);
    if (!isUint(vip.port, 0xffff)) throw new KatranError(op, `VIP port ${vip.port} outside 0..65535`);
    if (!isUint(vip.proto, 0xff)) throw new KatranError(op, `VIP protocol ${vip.proto} outside 0..255`);
    return { addr, definition: encodeVipDefinition(addr, vip.port, vip.proto) };
  }

  private requireVip(op: string, vip: VipKey): VipState {
    const { definition } = this.vipDefinition(op, vip);
    const state = this.vips.get(hex(definition));
    if (!state) throw new KatranError(op, `unknown VIP ${describeVip(vip)}`);
    return state;
  }

  private findVip(vip: VipKey): VipState | undefined {
    const addr = typeof vip?.address === 'string' ? parseIp(vip.address) : undefined;
    if (!addr || !isUint(vip.port, 0xffff) || !isUint(vip.proto, 0xff)) return undefined;
    return this.vips.get(hex(encodeVipDefinition(addr, vip.port, vip.proto)));
  }

  // ---------------------------------------------------------------- MAC

  changeMac(mac: Uint8Array | string): void {
    const bytes = this.parseMacOrThrow('changeMac', mac);
    this.maps.update('ctl_array', u32le(0), encodeCtlMac(bytes));
    this.mac = bytes;
  }

  getMac(): Uint8Array {
    return this.mac.slice();
  }

  getMacString(): string {
    return formatMac(this.mac);
  }

  // ---------------------------------------------------------------- VIPs

  /** Adds a VIP with flags (u32); returns its vip_num. */
  addVip(vip: VipKey, flags = 0): number {
    const op = `addVip(${describeVip(vip)})`;
    const { addr, definition } = this.vipDefinition(op, vip);
    if (!isUint(flags, 0xffffffff)) throw new KatranError(op, `flags ${flags} is not a u32`);
    if (this.vips.has(hex(definition))) throw new KatranError(op, 'VIP already exists');
    const num = this.freeVipNums[0];
    if (num === undefined) throw new KatranError(op, `all ${this.config.maxVips} VIP numbers are in use`);
    this.maps.update('vip_map', definition, encodeVipMeta(flags, num));
    this.freeVipNums.shift();
    this.vips.set(hex(definition), {
      key: { address: vip.address, port: vip.port, proto: vip.proto },
      addr,
      definition,
      num,
      flags,
      reals: new Map(),
    });
    return num;
  }

  /** Removes the VIP and drops its references on reals. Its ring and stats stay as they are. */
  delVip(vip: VipKey): void {
    const op = `delVip(${describeVip(vip)})`;
    const state = this.requireVip(op, vip);
    this.maps.delete('vip_map', state.definition);
    for (const num of state.reals.keys()) this.reals.release(num);
    this.freeVipNums.push(state.num);
    this.vips.delete(hex(state.definition));
  }

  /** Sets (or clears, with set = false) flag bits and rewrites the VIP's vip_meta. */
  modifyVip(vip: VipKey, flags: number, set = true): void {
    const op = `modifyVip(${describeVip(vip)})`;
    const state = this.requireVip(op, vip);
    if (!isUint(flags, 0xffffffff)) throw new KatranError(op, `flags ${flags} is not a u32`);
    const next = (set ? state.flags | flags : state.flags & ~flags) >>> 0;
    this.maps.update('vip_map', state.definition, encodeVipMeta(next, state.num));
    state.flags = next;
  }

  getVipFlags(vip: VipKey): number {
    return this.requireVip(`getVipFlags(${describeVip(vip)})`, vip).flags;
  }

  getVipNum(vip: VipKey): number {
    return this.requireVip(`getVipNum(${describeVip(vip)})`, vip).num;
  }

  hasVip(vip: VipKey): boolean {
    return this.findVip(vip) !== undefined;
  }

  /** VIPs as their callers spelled them, in the order they were added. */
  getAllVips(): VipKey[] {
    return [...this.vips.values()].map((v) => ({ ...v.key }));
  }

  // ---------------------------------------------------------------- reals

  addRealForVip(real: NewReal, vip: VipKey): UpdateReport {
    return this.modifyRealsForVip(ModifyAction.ADD, [real], vip);
  }

  delRealForVip(real: NewReal, vip: VipKey): UpdateReport {
    return this.modifyRealsForVip(ModifyAction.DEL, [real], vip);
  }

  /**
   * ADD: attach reals (or change their weight); DEL: detach them. The ring is rebuilt when
   * membership or a weight changed and only the slots that differ are written. With no
   * weighted real left nothing is written: the previous ring stays in ch_rings.
   */
  modifyRealsForVip(action: ModifyAction, reals: readonly NewReal[], vip: VipKey): UpdateReport {
    const op = `modifyRealsForVip(${action === ModifyAction.DEL ? 'DEL' : 'ADD'}, ${describeVip(vip)})`;
    if (action !== ModifyAction.ADD && action !== ModifyAction.DEL) throw new KatranError(op, `unknown action ${action}`);
    const state = this.requireVip(op, vip);
    const parsed = reals.map((r, i) => {
      const addr = this.parseAddress(op, `real #${i}`, r?.address);
      if (action === ModifyAction.ADD) {
        if (!isUint(r.weight, 0xffffffff)) throw new KatranError(op, `real ${r.address}: weight ${r.weight} is not a u32`);
        if (r.flags !== undefined && !isUint(r.flags, 0xff)) throw new KatranError(op, `real ${r.address}: flags ${r.flags} is not a u8`);
      }
      return { text: r.address, addr, weight: r.weight, flags: r.flags ?? 0 };
    });

    // Plan on copies; commit only after the map writes went through.
    const registry = this.reals.clone();
    const members = new Map(state.reals);
    const created: Array<{ num: number; addr: IpAddress; flags: number }> = [];
    const ignored: string[] = [];
    let changed = false;
    for (const r of parsed) {
      const entry = registry.get(r.addr);
      if (action === ModifyAction.DEL) {
        if (!entry || !members.has(entry.num)) {
          ignored.push(`${r.text}: not a real of VIP ${describeVip(vip)}`);
          continue;
        }
        members.delete(entry.num);
        registry.release(entry.num);
        changed = true;
        continue;
      }
      let num = entry?.num;
      if (num === undefined || !members.has(num)) {
        const got = registry.acquire(r.addr, r.flags);
        if (!got) throw new KatranError(op, `no free real index for ${r.text} (maxReals ${this.config.maxReals})`);
        if (got.created) created.push({ num: got.entry.num, addr: r.addr, flags: got.entry.flags });
        num = got.entry.num;
        members.set(num, { weight: 0, hash: 0n });
      }
      if (members.get(num)!.weight !== r.weight) {
        members.set(num, { weight: r.weight, hash: follyIpHash(r.addr) });
        changed = true;
      }
    }

    for (const c of created) this.maps.update('reals', u32le(c.num), encodeRealDefinition(c.addr, c.flags));
    let changedSlots = 0;
    if (changed) {
      const endpoints: Endpoint[] = [...members]
        .filter(([, m]) => m.weight > 0)
        .map(([num, m]) => ({ num, weight: m.weight, hash: m.hash }));
      if (endpoints.length > 0) {
        changedSlots = this.programRing(state, buildRing(sortEndpoints(endpoints), this.config.chRingSize, this.config.hashFunction));
      }
    }
    this.reals = registry;
    state.reals = members;
    return { changedSlots, ignored };
  }

  /** Writes the slots where `ring` differs from what ch_rings holds for this VIP. */
  private programRing(state: VipState, ring: Int32Array): number {
    const size = this.config.chRingSize;
    const previous = state.ring ?? new Int32Array(size).fill(-1);
    const base = state.num * size;
    const keys = new Uint32Array(size);
    const values = new Uint32Array(size);
    let count = 0;
    for (let pos = 0; pos < size; pos++) {
      if (ring[pos] !== previous[pos]) {
        keys[count] = base + pos;
        values[count] = ring[pos]!;
        count++;
      }
    }
    if (count === 0) return 0;
    try {
      this.maps.updateBatch('ch_rings', leBytes(keys, count), leBytes(values, count), count);
    } catch (e) {
      // Some slots may have been written: forget the cache so the next build rewrites all.
      state.ring = new Int32Array(size).fill(-2);
      throw e;
    }
    state.ring = ring;
    return count;
  }

  /** The VIP's reals, ascending by recorded hash (katran's order), weight-0 ones included. */
  getRealsForVip(vip: VipKey): Array<{ address: string; weight: number; flags: number }> {
    const state = this.requireVip(`getRealsForVip(${describeVip(vip)})`, vip);
    return [...state.reals]
      .sort(([, a], [, b]) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
      .map(([num, m]) => {
        const entry = this.reals.atIndex(num)!;
        return { address: formatIp(entry.addr), weight: m.weight, flags: entry.flags };
      });
  }

  /** Sets (or clears) real flag bits (u8; bit 0 is derived from the address and kept). */
  modifyReal(address: string, flags: number, set = true): void {
    const op = `modifyReal(${address})`;
    const addr = this.parseAddress(op, 'real', address);
    if (!isUint(flags, 0xff)) throw new KatranError(op, `flags ${flags} is not a u8`);
    const entry = this.reals.get(addr);
    if (!entry) throw new KatranError(op, 'unknown real');
    const mask = flags & 0xfe;
    const next = set ? entry.flags | mask : entry.flags & ~mask;
    this.maps.update('reals', u32le(entry.num), encodeRealDefinition(entry.addr, next));
    entry.flags = next;
  }

  getRealFlags(address: string): number {
    const op = `getRealFlags(${address})`;
    const entry = this.reals.get(this.parseAddress(op, 'real', address));
    if (!entry) throw new KatranError(op, 'unknown real');
    return entry.flags;
  }

  /** The real's index in `reals`, or -1 if no VIP or QUIC mapping uses the address. */
  getIndexForReal(address: string): number {
    const addr = parseIp(address);
    return (addr && this.reals.get(addr)?.num) ?? -1;
  }

  /** index -> address of every real in use. */
  getNumToRealMap(): Map<number, string> {
    return new Map(this.reals.entries().map((e) => [e.num, formatIp(e.addr)]));
  }

  /** The ring last written for the VIP (-1 = slot never written), or undefined if none was. */
  getRingForVip(vip: VipKey): Int32Array | undefined {
    return this.requireVip(`getRingForVip(${describeVip(vip)})`, vip).ring?.slice();
  }

  /** Which real consistent hashing gives a new flow to this VIP (no LRU, no QUIC id). */
  predictReal(vip: VipKey, flow: HashedFlow): { slot: number; index: number; address?: string } {
    const state = this.requireVip(`predictReal(${describeVip(vip)})`, vip);
    const params: FlowHashParams = {
      ringSize: this.config.chRingSize,
      chSeed: (this.config.maxVips * this.config.chRingSize) >>> 0,
      v6Seed: this.config.maxVips,
    };
    const slot = flowRingSlot(flow, state.flags, params);
    const index = state.ring ? Math.max(state.ring[slot]!, 0) : 0;
    const entry = this.reals.atIndex(index);
    return { slot, index, ...(entry && index ? { address: formatIp(entry.addr) } : {}) };
  }

  // ---------------------------------------------------------------- QUIC server ids

  /**
   * ADD maps server ids to reals (server_id_map[id] = real index); DEL forgets a mapping in
   * userspace only, as katran does (the array entry keeps pointing at the real).
   */
  modifyQuicRealsMapping(action: ModifyAction, reals: readonly QuicReal[]): UpdateReport {
    const op = `modifyQuicRealsMapping(${action === ModifyAction.DEL ? 'DEL' : 'ADD'})`;
    if (action !== ModifyAction.ADD && action !== ModifyAction.DEL) throw new KatranError(op, `unknown action ${action}`);
    const idLimit = this.serverIdLimit();
    const parsed = reals.map((r, i) => {
      const addr = this.parseAddress(op, `QUIC real #${i}`, r?.address);
      if (!isUint(r.id, idLimit)) throw new KatranError(op, `server id ${r.id} of ${r.address} outside 0..${idLimit}`);
      return { text: r.address, addr, id: r.id };
    });

    const registry = this.reals.clone();
    const mapping = new Map(this.quicMapping);
    const created: Array<{ num: number; addr: IpAddress; flags: number }> = [];
    const writes = new Map<number, number>();
    const ignored: string[] = [];
    for (const r of parsed) {
      const current = mapping.get(r.id);
      const same = current !== undefined && realKey(current) === realKey(r.addr);
      if (action === ModifyAction.DEL) {
        if (!current) {
          ignored.push(`id ${r.id}: no mapping`);
          continue;
        }
        if (!same) {
          ignored.push(`id ${r.id}: maps to ${formatIp(current)}, not ${r.text}`);
          continue;
        }
        registry.release(registry.get(current)!.num);
        mapping.delete(r.id);
        continue;
      }
      if (same) continue;
      if (current) registry.release(registry.get(current)!.num);
      const got = registry.acquire(r.addr, 0);
      if (!got) throw new KatranError(op, `no free real index for ${r.text} (maxReals ${this.config.maxReals})`);
      if (got.created) created.push({ num: got.entry.num, addr: r.addr, flags: 0 });
      writes.set(r.id, got.entry.num);
      mapping.set(r.id, r.addr);
    }

    for (const c of created) this.maps.update('reals', u32le(c.num), encodeRealDefinition(c.addr, c.flags));
    for (const [id, num] of writes) this.maps.update('server_id_map', u32le(id), u32le(num));
    this.reals = registry;
    this.quicMapping.clear();
    for (const [id, addr] of mapping) this.quicMapping.set(id, addr);
    return { changedSlots: 0, ignored };
  }

  /**
   * The largest QUIC server id modifyQuicRealsMapping accepts; throws KatranError if the
   * object has no server_id_map. Public so callers can validate a whole plan up front.
   */
  serverIdLimit(): number {
    if (this.config.enableCidV3) return 0xffffffff;
    // katran accepts ids up to 0xFFFFFE, but the array only has max_entries slots.
    const serverIds = this.maps.describe('server_id_map');
    if (!serverIds) throw new KatranError('modifyQuicRealsMapping', 'the object has no map server_id_map (no QUIC support)');
    return Math.min(MAX_QUIC_ID_V2, serverIds.maxEntries - 1);
  }

  getQuicRealsMapping(): QuicReal[] {
    return [...this.quicMapping].map(([id, addr]) => ({ address: formatIp(addr), id }));
  }

  // ---------------------------------------------------------------- source routing, inline decap, healthchecks

  /** Routes clients from each network in `srcs` (CIDRs) of SRC_ROUTING VIPs to the real `dst`. */
  addSrcRoutingRule(srcs: readonly string[], dst: string): void {
    this.srcRouting.add(srcs, dst);
  }

  /** Removes the rules for `srcs`; returns the networks that had none (ignored, as in katran). */
  delSrcRoutingRule(srcs: readonly string[]): string[] {
    return this.srcRouting.del(srcs);
  }

  clearAllSrcRoutingRules(): void {
    this.srcRouting.clear();
  }

  /** network ("10.0.0.0/8") -> destination real. */
  getSrcRoutingRule(): Map<string, string> {
    return this.srcRouting.list();
  }

  getSrcRoutingRuleSize(): number {
    return this.srcRouting.size;
  }

  /** Throws the KatranError addSrcRoutingRule would for missing maps or lack of room; writes nothing. */
  checkSrcRoutingRuleFits(srcs: readonly string[]): void {
    this.srcRouting.checkFits(srcs);
  }

  addInlineDecapDst(dst: string): void {
    this.decapDsts.add(dst);
  }

  delInlineDecapDst(dst: string): void {
    this.decapDsts.del(dst);
  }

  getInlineDecapDst(): string[] {
    return this.decapDsts.list();
  }

  /** Whether the object has katran's decap_dst map (else the inline-decap calls throw). */
  get inlineDecapAvailable(): boolean {
    return this.decapDsts.available;
  }

  /** How many decap destinations this object takes (maxDecapDst, or decap_dst's size if smaller). */
  get inlineDecapDstLimit(): number {
    return this.decapDsts.limit;
  }

  /** Whether the object has katran's hc_reals_map (else the healthcheck calls throw). */
  get healthcheckingAvailable(): boolean {
    return this.healthchecks.available;
  }

  /** Sends health checks marked `somark` to `dst` (replacing an earlier destination). */
  addHealthcheckerDst(somark: number, dst: string): void {
    this.healthchecks.add(somark, dst);
  }

  delHealthcheckerDst(somark: number): void {
    this.healthchecks.del(somark);
  }

  getHealthcheckersDst(): Map<number, string> {
    return this.healthchecks.list();
  }

  get healthcheckDstLimit(): number {
    return this.healthchecks.limit;
  }

  // ---------------------------------------------------------------- down reals (UDP flow migration)

  private downRealsInner(op: string, state: VipState): InnerMapHandle | undefined {
    if (!this.maps.describe('vip_to_down_reals_map')) throw new KatranError(op, 'the object has no map vip_to_down_reals_map');
    return this.maps.getInnerMap('vip_to_down_reals_map', state.definition);
  }

  private checkRealIndex(op: string, realIndex: number): void {
    if (!isUint(realIndex, 0xffffffff)) throw new KatranError(op, `real index ${realIndex} is not a u32`);
  }

  /** Marks a real index down for the VIP (the inner HASH map is created on first use). */
  addDownRealToVipToDownRealsMap(vip: VipKey, realIndex: number): void {
    const op = `addDownReal(${describeVip(vip)})`;
    const state = this.requireVip(op, vip);
    this.checkRealIndex(op, realIndex);
    let inner = this.downRealsInner(op, state);
    if (!inner) {
      inner = this.maps.createMap({
        name: 'vip_down_reals',
        type: MAP_TYPE.HASH,
        keySize: 4,
        valueSize: 1,
        maxEntries: this.config.maxReals,
        flags: MAP_FLAG.NO_PREALLOC,
      });
      this.maps.setInnerMap('vip_to_down_reals_map', state.definition, inner);
    }
    // The program tests presence only; KatranLb writes a zero byte.
    this.maps.update(inner, u32le(realIndex), new Uint8Array(1));
  }

  checkRealFromVipToDownRealsMap(vip: VipKey, realIndex: number): boolean {
    const op = `checkDownReal(${describeVip(vip)})`;
    const state = this.requireVip(op, vip);
    this.checkRealIndex(op, realIndex);
    const inner = this.downRealsInner(op, state);
    return inner !== undefined && this.maps.lookup(inner, u32le(realIndex)) !== undefined;
  }

  removeRealFromVipToDownRealsMap(vip: VipKey, realIndex: number): void {
    const op = `removeDownReal(${describeVip(vip)})`;
    const state = this.requireVip(op, vip);
    this.checkRealIndex(op, realIndex);
    const inner = this.downRealsInner(op, state);
    if (inner) this.maps.delete(inner, u32le(realIndex));
  }

  removeVipFromVipToDownRealsMap(vip: VipKey): void {
    const op = `removeDownRealsVip(${describeVip(vip)})`;
    const state = this.requireVip(op, vip);
    if (this.downRealsInner(op, state)) this.maps.delete('vip_to_down_reals_map', state.definition);
  }

  /** Selects the VIP whose LRU misses the data plane counts per real (vip_miss_stats[0]). */
  logVipLruMissStats(vip: VipKey): void {
    const state = this.requireVip(`logVipLruMissStats(${describeVip(vip)})`, vip);
    this.maps.update('vip_miss_stats', u32le(0), state.definition);
  }
}
