// The declarative katran configuration (JSON; schema in docs/katran-config.md). Applying
// one is all or nothing: the file is checked on its own (unknown keys, wrong types, bad
// addresses, ports out of range, duplicates: a KatranError naming the JSON path), then
// against the balancer it goes into (VIPs already there, VIP / real / server-id space),
// and only then written through KatranLb — the same calls an operator would make.
// Source-routing rules, inline-decap destinations and healthchecks need their maps in the
// object (lpm_src_v4/v6, decap_dst, hc_reals_map); a file using them on an object without
// is refused as a whole.

import { KatranError } from './errors.js';
import { KatranLb, ModifyAction, type KatranConfig } from './control-plane.js';
import type { KatranMaps } from './maps/maps.js';
import { MaglevVersion } from './hash/maglev.js';
import { formatCidr, parseCidr } from './cidr.js';
import { parseIp } from './ip.js';
import { parseMac } from './mac.js';
import { realKey } from './real-registry.js';

export const VIP_FLAG_NAMES: Readonly<Record<string, number>> = {
  NO_SPORT: 1,
  NO_LRU: 2,
  QUIC_VIP: 4,
  DPORT_HASH: 8,
  SRC_ROUTING: 16,
  LOCAL_VIP: 32,
  GLOBAL_LRU: 64,
  HASH_SRC_DST_PORT: 128,
  UDP_STABLE_ROUTING_VIP: 256,
  UDP_FLOW_MIGRATION: 512,
};
export const REAL_FLAG_NAMES: Readonly<Record<string, number>> = { LOCAL_REAL: 2 };
const PROTOCOLS: Readonly<Record<string, number>> = { tcp: 6, udp: 17 };
/** katran's kMaxQuicIdV2; a smaller server_id_map lowers it (checked when applied). */
const MAX_QUIC_ID = 0xfffffe;

export interface KatranFileReal {
  address: string;
  weight: number;
  flags: number;
}
export interface KatranFileVip {
  address: string;
  port: number;
  proto: number;
  flags: number;
  reals: KatranFileReal[];
}

export interface KatranFileConfig {
  /** Where the text came from (file name), for error messages. */
  source: string;
  mac: string;
  /** Absent: the balancer's own (V1 for a new one). */
  maglev?: MaglevVersion;
  lruSize?: number;
  forwardingCores?: number[];
  /** Outer sources for GUE encapsulation (objects with pckt_srcs). */
  katranSrcV4?: string;
  katranSrcV6?: string;
  vips: KatranFileVip[];
  quicMappings: { address: string; id: number }[];
  /** Each: client networks (CIDR) routed to the real `dst`. */
  srcRoutingRules: { srcs: string[]; dst: string }[];
  decapDsts: string[];
  healthchecks: { somark: number; address: string }[];
}

type Json = unknown;

class Checker {
  constructor(private readonly label: string) {}

  fail(path: string, why: string): never {
    throw new KatranError(`${this.label}: ${path}`, why);
  }

  object(v: Json, path: string, keys: readonly string[], required: readonly string[]): Record<string, Json> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'must be an object');
    const o = v as Record<string, Json>;
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(`${path}.${k}`, `unknown key (known: ${keys.join(', ')})`);
    for (const k of required) if (!(k in o)) this.fail(`${path}.${k}`, 'is required');
    return o;
  }

  array(v: Json, path: string): Json[] {
    if (!Array.isArray(v)) this.fail(path, 'must be an array');
    return v;
  }

  int(v: Json, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(path, `must be an integer in ${min}..${max}`);
    return v;
  }

  address(v: Json, path: string): string {
    if (typeof v !== 'string') this.fail(path, 'must be an IP address string');
    if (!parseIp(v)) this.fail(path, `'${v}' is not an IPv4 or IPv6 address`);
    return v;
  }

  flags(v: Json, path: string, names: Readonly<Record<string, number>>): number {
    if (v === undefined) return 0;
    return this.array(v, path).reduce<number>((acc, f, i) => {
      const bit = typeof f === 'string' ? names[f] : undefined;
      if (bit === undefined) this.fail(`${path}[${i}]`, `unknown flag (known: ${Object.keys(names).join(', ')})`);
      return acc | bit;
    }, 0);
  }
}

/** Canonical identity of an address (v4-mapped IPv6 = its IPv4), as KatranLb keys reals. */
const addressKey = (text: string): string => realKey(parseIp(text)!);

type Section<T> = (c: Checker, value: Json | undefined) => T;

/** Each element of an optional array section through `item`, with its JSON path. */
const eachOf = <T>(c: Checker, value: Json | undefined, name: string, item: (v: Json, path: string) => T): T[] =>
  c.array(value ?? [], `$.${name}`).map((v, i) => item(v, `$.${name}[${i}]`));

/** Fails with `why` when `key` was seen before in this section. */
function once<K>(c: Checker, seen: Set<K>, key: K, path: string, why: string): void {
  if (seen.has(key)) c.fail(path, why);
  seen.add(key);
}

const parseMacField: Section<string> = (c, v) =>
  typeof v === 'string' && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(v) && parseMac(v)
    ? v
    : c.fail('$.mac', 'must be a MAC address like 00:00:de:ad:be:af');

function parseGueSource(c: Checker, v: Json | undefined, key: 'katranSrcV4' | 'katranSrcV6', family: 4 | 6): string | undefined {
  if (v === undefined) return undefined;
  const text = c.address(v, `$.${key}`);
  if (parseIp(text)!.family !== family) c.fail(`$.${key}`, `must be an IPv${family} address`);
  return text;
}

function parseReals(c: Checker, value: Json | undefined, vipPath: string): KatranFileReal[] {
  const seen = new Set<string>();
  return c.array(value ?? [], `${vipPath}.reals`).map((r, j): KatranFileReal => {
    const path = `${vipPath}.reals[${j}]`;
    const o = c.object(r, path, ['address', 'weight', 'flags'], ['address']);
    const address = c.address(o.address, `${path}.address`);
    once(c, seen, addressKey(address), `${path}.address`, `duplicate real ${address} in this VIP`);
    return {
      address,
      weight: o.weight === undefined ? 1 : c.int(o.weight, `${path}.weight`, 0, 0xffffffff),
      flags: c.flags(o.flags, `${path}.flags`, REAL_FLAG_NAMES),
    };
  });
}

const parseVips: Section<KatranFileVip[]> = (c, value) => {
  const seen = new Set<string>();
  return eachOf(c, value, 'vips', (v, path): KatranFileVip => {
    const o = c.object(v, path, ['address', 'port', 'protocol', 'flags', 'reals'], ['address', 'port', 'protocol']);
    const address = c.address(o.address, `${path}.address`);
    const port = c.int(o.port, `${path}.port`, 0, 65535);
    const proto =
      (typeof o.protocol === 'string' ? PROTOCOLS[o.protocol] : undefined) ?? c.fail(`${path}.protocol`, "must be 'tcp' or 'udp'");
    once(c, seen, `${addressKey(address)}:${port}:${proto}`, path, `duplicate VIP ${address}:${port}/${o.protocol}`);
    return { address, port, proto, flags: c.flags(o.flags, `${path}.flags`, VIP_FLAG_NAMES), reals: parseReals(c, o.reals, path) };
  });
};

const parseQuicMappings: Section<KatranFileConfig['quicMappings']> = (c, value) => {
  const seen = new Set<number>();
  return eachOf(c, value, 'quicMappings', (q, path) => {
    const o = c.object(q, path, ['address', 'id'], ['address', 'id']);
    const mapping = { address: c.address(o.address, `${path}.address`), id: c.int(o.id, `${path}.id`, 1, MAX_QUIC_ID) };
    once(c, seen, mapping.id, `${path}.id`, `server id ${mapping.id} is mapped twice`);
    return mapping;
  });
};

const parseSrcRoutingRules: Section<KatranFileConfig['srcRoutingRules']> = (c, value) => {
  const seen = new Set<string>();
  return eachOf(c, value, 'srcRoutingRules', (r, path) => {
    const o = c.object(r, path, ['srcs', 'dst'], ['srcs', 'dst']);
    const srcs = c.array(o.srcs, `${path}.srcs`).map((src, j): string => {
      const at = `${path}.srcs[${j}]`;
      if (typeof src !== 'string') return c.fail(at, 'must be a network like 10.0.0.0/8');
      const network = parseCidr(src);
      if (typeof network === 'string') return c.fail(at, `'${src}' ${network}`);
      // Networks are compared as katran keys them: masked to the prefix.
      once(c, seen, formatCidr(network), at, `network ${formatCidr(network)} has more than one rule`);
      return src;
    });
    return { srcs, dst: c.address(o.dst, `${path}.dst`) };
  });
};

const parseDecapDsts: Section<string[]> = (c, value) => {
  const seen = new Set<string>();
  return eachOf(c, value, 'decapDsts', (d, path) => {
    const address = c.address(d, path);
    once(c, seen, addressKey(address), path, `duplicate decap destination ${address}`);
    return address;
  });
};

const parseHealthchecks: Section<KatranFileConfig['healthchecks']> = (c, value) => {
  const seen = new Set<number>();
  return eachOf(c, value, 'healthchecks', (h, path) => {
    const o = c.object(h, path, ['somark', 'address'], ['somark', 'address']);
    const somark = c.int(o.somark, `${path}.somark`, 0, 0xffffffff);
    once(c, seen, somark, `${path}.somark`, `somark ${somark} is used twice`);
    return { somark, address: c.address(o.address, `${path}.address`) };
  });
};

const parseMaglev: Section<Pick<KatranFileConfig, 'maglev'>> = (c, v) => {
  if (v === undefined) return {};
  if (v !== 'v1' && v !== 'v2') c.fail('$.maglev', "must be 'v1' or 'v2'");
  return { maglev: v === 'v2' ? MaglevVersion.V2 : MaglevVersion.V1 };
};

const parseForwardingCores: Section<Pick<KatranFileConfig, 'forwardingCores'>> = (c, v) =>
  v === undefined ? {} : { forwardingCores: c.array(v, '$.forwardingCores').map((x, i) => c.int(x, `$.forwardingCores[${i}]`, 0, 1023)) };

export function parseKatranConfig(text: string, label: string): KatranFileConfig {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new KatranError(label, `not valid JSON (${(e as Error).message})`);
  }
  const c = new Checker(label);
  const top = c.object(
    json,
    '$',
    [
      'mac',
      'maglev',
      'lruSize',
      'forwardingCores',
      'katranSrcV4',
      'katranSrcV6',
      'vips',
      'quicMappings',
      'srcRoutingRules',
      'decapDsts',
      'healthchecks',
    ],
    ['mac'],
  );
  const katranSrcV4 = parseGueSource(c, top.katranSrcV4, 'katranSrcV4', 4);
  const katranSrcV6 = parseGueSource(c, top.katranSrcV6, 'katranSrcV6', 6);
  const mac = parseMacField(c, top.mac);
  const maglev = parseMaglev(c, top.maglev);
  return {
    source: label,
    mac,
    ...maglev,
    ...(top.lruSize !== undefined ? { lruSize: c.int(top.lruSize, '$.lruSize', 1, 2 ** 31) } : {}),
    ...parseForwardingCores(c, top.forwardingCores),
    ...(katranSrcV4 !== undefined ? { katranSrcV4 } : {}),
    ...(katranSrcV6 !== undefined ? { katranSrcV6 } : {}),
    vips: parseVips(c, top.vips),
    quicMappings: parseQuicMappings(c, top.quicMappings),
    srcRoutingRules: parseSrcRoutingRules(c, top.srcRoutingRules),
    decapDsts: parseDecapDsts(c, top.decapDsts),
    healthchecks: parseHealthchecks(c, top.healthchecks),
  };
}

/**
 * Sizes the control plane must use, read off the object's maps: katran's own object has
 * 512 VIPs x 65537-slot rings and 4096 reals; smaller objects sharing its layout (our
 * example LB) declare smaller maps.
 */
export function sizesFromMaps(maps: KatranMaps): Partial<KatranConfig> {
  const vips = maps.describe('vip_map')?.maxEntries;
  const reals = maps.describe('reals')?.maxEntries;
  const ring = maps.describe('ch_rings')?.maxEntries;
  return {
    ...(vips ? { maxVips: vips } : {}),
    ...(reals ? { maxReals: reals } : {}),
    ...(vips && ring ? { chRingSize: Math.floor(ring / vips) } : {}),
  };
}

/**
 * Throws (KatranError naming the JSON path) unless every write `config` implies would be
 * accepted by `lb` in its current state. Writes nothing.
 */
export function checkKatranConfigFits(lb: KatranLb, config: KatranFileConfig): void {
  const c = new Checker(config.source);
  if (config.maglev !== undefined && config.maglev !== lb.config.hashFunction) {
    c.fail(
      '$.maglev',
      `the balancer already uses Maglev ${lb.config.hashFunction === MaglevVersion.V2 ? 'v2' : 'v1'}; the ring builder is chosen when it is created`,
    );
  }
  if (config.lruSize !== undefined && config.lruSize !== lb.config.lruSize) {
    c.fail('$.lruSize', `the balancer's LRUs already exist (lruSize ${lb.config.lruSize}); it is chosen when the balancer is created`);
  }
  if (config.forwardingCores !== undefined && config.forwardingCores.join() !== lb.config.forwardingCores.join()) {
    c.fail(
      '$.forwardingCores',
      `the balancer already has its per-core LRUs (${lb.config.forwardingCores.join(', ') || 'none'}); they are chosen when it is created`,
    );
  }
  for (const key of ['katranSrcV4', 'katranSrcV6'] as const) {
    const want = config[key];
    if (want !== undefined && want !== lb.config[key])
      c.fail(`$.${key}`, `the balancer was created with ${key} ${lb.config[key] ?? 'unset'}; GUE sources are chosen when it is created`);
  }

  config.vips.forEach((v, i) => {
    if (lb.hasVip({ address: v.address, port: v.port, proto: v.proto })) c.fail(`$.vips[${i}]`, 'the balancer already has this VIP');
  });
  const freeVips = lb.config.maxVips - lb.getAllVips().length;
  if (config.vips.length > freeVips) {
    c.fail('$.vips', `${config.vips.length} VIPs do not fit: ${freeVips} of the balancer's ${lb.config.maxVips} VIP numbers are free`);
  }

  // Each address not yet known to the balancer takes a real index (1..maxReals-1).
  const newReals = new Set<string>();
  const addresses = [
    ...config.vips.flatMap((v) => v.reals.map((r) => r.address)),
    ...config.quicMappings.map((q) => q.address),
    ...config.srcRoutingRules.map((r) => r.dst),
  ];
  for (const a of addresses) if (lb.getIndexForReal(a) < 0) newReals.add(addressKey(a));
  const freeReals = lb.config.maxReals - 1 - lb.getNumToRealMap().size;
  if (newReals.size > freeReals) {
    c.fail('$.vips', `${newReals.size} new real addresses do not fit: ${freeReals} of the balancer's real indexes are free`);
  }

  if (config.quicMappings.length > 0) {
    let limit: number;
    try {
      limit = lb.serverIdLimit();
    } catch (e) {
      return c.fail('$.quicMappings', e instanceof KatranError ? e.reason : String(e));
    }
    config.quicMappings.forEach((q, i) => {
      if (q.id > limit) c.fail(`$.quicMappings[${i}].id`, `server id ${q.id} exceeds this object's limit ${limit}`);
    });
  }
  checkRoutingFits(lb, config, c);
}

/** Source-routing rules, decap destinations and healthchecks: maps present, room left. */
function checkRoutingFits(lb: KatranLb, config: KatranFileConfig, c: Checker): void {
  const existingRules = lb.getSrcRoutingRule();
  config.srcRoutingRules.forEach((r, i) =>
    r.srcs.forEach((src, j) => {
      const network = parseCidr(src);
      if (typeof network !== 'string' && existingRules.has(`${formatCidr(network)}`)) {
        c.fail(`$.srcRoutingRules[${i}].srcs[${j}]`, `the balancer already has a rule for ${formatCidr(network)}`);
      }
    }),
  );
  const allSrcs = config.srcRoutingRules.flatMap((r) => r.srcs);
  if (allSrcs.length > 0) {
    try {
      lb.checkSrcRoutingRuleFits(allSrcs);
    } catch (e) {
      c.fail('$.srcRoutingRules', e instanceof KatranError ? e.reason : String(e));
    }
  }

  if (config.decapDsts.length > 0) {
    if (!lb.inlineDecapAvailable) c.fail('$.decapDsts', 'the object has no map decap_dst (no inline decapsulation)');
    const existing = new Set(lb.getInlineDecapDst().map(addressKey));
    config.decapDsts.forEach((d, i) => {
      if (existing.has(addressKey(d))) c.fail(`$.decapDsts[${i}]`, `${d} is already a decap destination`);
    });
    const total = existing.size + config.decapDsts.length;
    if (total > lb.inlineDecapDstLimit) c.fail('$.decapDsts', `${total} decap destinations exceed the limit ${lb.inlineDecapDstLimit}`);
  }

  if (config.healthchecks.length > 0) {
    if (!lb.healthcheckingAvailable) c.fail('$.healthchecks', 'the object has no map hc_reals_map (health checking is not configured)');
    const marks = new Set([...lb.getHealthcheckersDst().keys(), ...config.healthchecks.map((h) => h.somark)]);
    if (marks.size > lb.healthcheckDstLimit)
      c.fail('$.healthchecks', `${marks.size} healthchecks exceed the limit ${lb.healthcheckDstLimit}`);
  }
}

/** Writes `config` through `lb` (after checkKatranConfigFits). */
function write(lb: KatranLb, config: KatranFileConfig, changeMac: boolean): void {
  if (changeMac) lb.changeMac(config.mac);
  for (const v of config.vips) {
    const vip = { address: v.address, port: v.port, proto: v.proto };
    lb.addVip(vip, v.flags);
    if (v.reals.length) lb.modifyRealsForVip(ModifyAction.ADD, v.reals, vip);
  }
  if (config.quicMappings.length) lb.modifyQuicRealsMapping(ModifyAction.ADD, config.quicMappings);
  for (const rule of config.srcRoutingRules) lb.addSrcRoutingRule(rule.srcs, rule.dst);
  for (const dst of config.decapDsts) lb.addInlineDecapDst(dst);
  for (const hc of config.healthchecks) lb.addHealthcheckerDst(hc.somark, hc.address);
}

/**
 * Applies `config`, all or nothing, and returns the balancer.
 * - Given a KatranLb: adds the file's VIPs, reals and QUIC mappings to it and sets its MAC.
 *   maglev / lruSize / forwardingCores, if present, must match what it was created with.
 * - Given maps: creates the KatranLb for them (sizes read from the maps, `overrides` last),
 *   initialises it and provisions it. Nothing is written if the config does not fit.
 * Only a backend refusing a write the checks allowed (a kernel out of memory) can stop
 * it halfway; that error is thrown as is.
 */
export function applyKatranConfig(
  target: KatranLb | KatranMaps,
  config: KatranFileConfig,
  overrides: Partial<KatranConfig> = {},
): KatranLb {
  if (target instanceof KatranLb) {
    checkKatranConfigFits(target, config);
    write(target, config, true);
    return target;
  }
  const lb = new KatranLb(target, {
    ...sizesFromMaps(target),
    defaultMac: config.mac,
    ...(config.maglev !== undefined ? { hashFunction: config.maglev } : {}),
    ...(config.lruSize !== undefined ? { lruSize: config.lruSize } : {}),
    ...(config.forwardingCores !== undefined ? { forwardingCores: config.forwardingCores } : {}),
    ...(config.katranSrcV4 !== undefined ? { katranSrcV4: config.katranSrcV4 } : {}),
    ...(config.katranSrcV6 !== undefined ? { katranSrcV6: config.katranSrcV6 } : {}),
    ...overrides,
  });
  checkKatranConfigFits(lb, {
    ...config,
    maglev: undefined,
    lruSize: undefined,
    forwardingCores: undefined,
    katranSrcV4: undefined,
    katranSrcV6: undefined,
  });
  lb.init();
  write(lb, config, false);
  return lb;
}
