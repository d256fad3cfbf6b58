// The declarative katran configuration (JSON; schema in docs/katran-config.md): checked
// completely — unknown keys, wrong types, bad addresses and ports are errors naming the
// JSON path — before the first map write, then applied through KatranLb.

import { KatranError } from './errors.js';
import { KatranLb, ModifyAction, type KatranConfig } from './control-plane.js';
import type { KatranMaps } from './maps.js';
import { MaglevVersion } from './maglev.js';
import { parseIp } from './ip.js';

export const VIP_FLAG_NAMES: Readonly<Record<string, number>> = {
  NO_SPORT: 1, NO_LRU: 2, QUIC_VIP: 4, DPORT_HASH: 8, SRC_ROUTING: 16, LOCAL_VIP: 32,
  GLOBAL_LRU: 64, HASH_SRC_DST_PORT: 128, UDP_STABLE_ROUTING_VIP: 256, UDP_FLOW_MIGRATION: 512,
};
export const REAL_FLAG_NAMES: Readonly<Record<string, number>> = { LOCAL_REAL: 2 };
const PROTOCOLS: Readonly<Record<string, number>> = { tcp: 6, udp: 17 };

export interface KatranFileConfig {
  mac: string;
  maglev: MaglevVersion;
  lruSize?: number;
  forwardingCores?: number[];
  vips: { address: string; port: number; proto: number; flags: number; reals: { address: string; weight: number; flags: number }[] }[];
  quicMappings: { address: string; id: number }[];
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

export function parseKatranConfig(text: string, label: string): KatranFileConfig {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new KatranError(label, `not valid JSON (${(e as Error).message})`);
  }
  const c = new Checker(label);
  const top = c.object(json, '$', ['mac', 'maglev', 'lruSize', 'forwardingCores', 'vips', 'quicMappings'], ['mac']);
  const mac = typeof top.mac === 'string' && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(top.mac)
    ? top.mac
    : c.fail('$.mac', 'must be a MAC address like 00:00:de:ad:be:af');
  const maglev = top.maglev ?? 'v1';
  if (maglev !== 'v1' && maglev !== 'v2') c.fail('$.maglev', "must be 'v1' or 'v2'");
  const seen = new Set<string>();
  const vips = c.array(top.vips ?? [], '$.vips').map((v, i) => {
    const path = `$.vips[${i}]`;
    const o = c.object(v, path, ['address', 'port', 'protocol', 'flags', 'reals'], ['address', 'port', 'protocol']);
    const proto: number = (typeof o.protocol === 'string' ? PROTOCOLS[o.protocol] : undefined) ?? c.fail(`${path}.protocol`, "must be 'tcp' or 'udp'");
    const vip = { address: c.address(o.address, `${path}.address`), port: c.int(o.port, `${path}.port`, 0, 65535), proto };
    const id = `${parseIp(vip.address)!.bytes.join('.')}:${vip.port}:${proto}`;
    if (seen.has(id)) c.fail(path, 'duplicate VIP');
    seen.add(id);
    const reals = c.array(o.reals ?? [], `${path}.reals`).map((r, j) => {
      const rp = `${path}.reals[${j}]`;
      const ro = c.object(r, rp, ['address', 'weight', 'flags'], ['address']);
      return {
        address: c.address(ro.address, `${rp}.address`),
        weight: ro.weight === undefined ? 1 : c.int(ro.weight, `${rp}.weight`, 0, 0xffffffff),
        flags: c.flags(ro.flags, `${rp}.flags`, REAL_FLAG_NAMES),
      };
    });
    return { ...vip, flags: c.flags(o.flags, `${path}.flags`, VIP_FLAG_NAMES), reals };
  });
  const quicMappings = c.array(top.quicMappings ?? [], '$.quicMappings').map((q, i) => {
    const o = c.object(q, `$.quicMappings[${i}]`, ['address', 'id'], ['address', 'id']);
    return { address: c.address(o.address, `$.quicMappings[${i}].address`), id: c.int(o.id, `$.quicMappings[${i}].id`, 1, 0xfffffd) };
  });
  return {
    mac,
    maglev: maglev === 'v2' ? MaglevVersion.V2 : MaglevVersion.V1,
    ...(top.lruSize !== undefined ? { lruSize: c.int(top.lruSize, '$.lruSize', 1, 2 ** 31) } : {}),
    ...(top.forwardingCores !== undefined
      ? { forwardingCores: c.array(top.forwardingCores, '$.forwardingCores').map((x, i) => c.int(x, `$.forwardingCores[${i}]`, 0, 1023)) }
      : {}),
    vips,
    quicMappings,
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

/** A KatranLb for `maps`, initialised and provisioned from the file's configuration. */
export function applyKatranConfig(maps: KatranMaps, config: KatranFileConfig, overrides: Partial<KatranConfig> = {}): KatranLb {
  const lb = new KatranLb(maps, {
    ...sizesFromMaps(maps),
    defaultMac: config.mac,
    hashFunction: config.maglev,
    ...(config.lruSize !== undefined ? { lruSize: config.lruSize } : {}),
    ...(config.forwardingCores !== undefined ? { forwardingCores: config.forwardingCores } : {}),
    ...overrides,
  });
  lb.init();
  for (const v of config.vips) {
    const vip = { address: v.address, port: v.port, proto: v.proto };
    lb.addVip(vip, v.flags);
    if (v.reals.length) lb.modifyRealsForVip(ModifyAction.ADD, v.reals, vip);
  }
  if (config.quicMappings.length) lb.modifyQuicRealsMapping(ModifyAction.ADD, config.quicMappings);
  return lb;
}
