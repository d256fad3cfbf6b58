// The FIB lookups of bpf_fib_lookup that rtnetlink cannot ask for in one question:
// BPF_FIB_LOOKUP_DIRECT reads one table directly, without the policy rules (the kernel's
// fib_table_lookup / fib6_table_lookup on the main table, the device's VRF table, or the
// TBID given), and a multipath route's next hop for the flow. Over the table's dump
// (RouteTables.routes), as fib_table_lookup walks its trie: the longest prefix that covers
// the destination, there the routes by TOS (a TOS route only for its TOS) and priority; a
// reject type answers its error at once; a route counts if one of its next hops is alive
// (and, for an OUTPUT lookup, leaves by that device).

import type { NextHop, RouteAnswer, RouteEntry, RouteQuery, RouteTables, RuleAnswer } from '../core/route-tables.js';

export const RT_TABLE_MAIN = 254;
const RT_TABLE_LOCAL = 255;
const RT_TABLE_DEFAULT = 253;
const RTNH_F_DEAD = 1;
const FR_ACT_TO_TBL = 1;
const AF_INET = 2;

/** fib_props[type].error: blackhole, unreachable, prohibit, throw. */
const REJECT: Record<number, string> = { 6: 'EINVAL', 7: 'EHOSTUNREACH', 8: 'EACCES', 9: 'EAGAIN' };

/** Whether `prefix`/`len` covers `dst`. */
function covers(dst: Uint8Array, prefix: Uint8Array | undefined, len: number): boolean {
  for (let bit = 0; bit < len; bit += 8) {
    const mask = len - bit >= 8 ? 0xff : (0xff00 >> (len - bit)) & 0xff;
    if (((dst[bit >> 3]! ^ (prefix?.[bit >> 3] ?? 0)) & mask) !== 0) return false;
  }
  return true;
}

/** A route's next hops: the multipath list, or its one next hop. */
export function hopsOf(route: RouteEntry): NextHop[] {
  if (route.nexthops?.length) return route.nexthops;
  const hop: NextHop = { oif: route.oif, flags: route.flags ?? 0, weight: 1 };
  if (route.gateway) Object.assign(hop, { gateway: route.gateway, viaFamily: route.viaFamily });
  return [hop];
}

const alive = (hop: NextHop, oif: number): boolean => (hop.flags & RTNH_F_DEAD) === 0 && (!oif || hop.oif === oif);

/** fib_table_lookup over `routes` (one table) for `dst`; `oif` for an OUTPUT lookup; `tos` the flow's. */
export function tableLookup(routes: readonly RouteEntry[], dst: Uint8Array, oif: number, tos: number): RouteAnswer {
  const candidates = routes
    .filter((r) => covers(dst, r.dst, r.dstLen ?? 0))
    .sort((a, b) => (b.dstLen ?? 0) - (a.dstLen ?? 0) || (b.tos ?? 0) - (a.tos ?? 0) || a.priority - b.priority);
  for (const route of candidates) {
    if (route.tos && route.tos !== (tos & 0xfc)) continue;
    const reject = REJECT[route.type];
    if (reject) return { error: reject };
    const hop = hopsOf(route).findIndex((h) => alive(h, oif));
    if (hop < 0) continue;
    // The next hop the table lookup settles on (fib_select_path keeps it when oif is set).
    return oif ? withHop(route, hopsOf(route)[hop]!) : route;
  }
  return { error: 'ENETUNREACH' };
}

/** The route as it leaves through `hop`. */
export function withHop(route: RouteEntry, hop: NextHop): RouteEntry {
  const { gateway: _g, viaFamily: _v, nexthops: _n, multipath: _m, ...rest } = route;
  const out: RouteEntry = { ...rest, oif: hop.oif, encap: route.encap || hop.encap };
  if (hop.gateway) Object.assign(out, { gateway: hop.gateway, viaFamily: hop.viaFamily });
  return out;
}

/**
 * Whether the family's rules are the kernel's defaults (local, main and, for IPv4, default,
 * matching everything): then a lookup through the rules meets the main table's answer
 * unless the local table answers first.
 */
function defaultRules(rules: readonly RuleAnswer[], family: number): boolean {
  const tables = family === AF_INET ? [RT_TABLE_LOCAL, RT_TABLE_MAIN, RT_TABLE_DEFAULT] : [RT_TABLE_LOCAL, RT_TABLE_MAIN];
  return rules.length === tables.length && rules.every((r, i) => r.action === FR_ACT_TO_TBL && !r.selectors && r.table === tables[i]);
}

/**
 * A lookup through the policy rules: RTM_GETROUTE with the flow, on the input path (rules
 * see the ingress device) or, for OUTPUT, the output path. Either may refuse what the
 * helper does not: the input path validates the source (martians, rp_filter: EINVAL,
 * EXDEV), the output path takes only a local source (ENETUNREACH); then the question is
 * asked again without what it refused, as an output lookup without the source.
 */
export function ruleLookup(tables: RouteTables, family: number, dst: Uint8Array, query: RouteQuery): RouteAnswer {
  const answer = tables.route(family, dst, query);
  if (!('error' in answer)) return answer;
  const refusedSource = query.iif ? answer.error === 'EINVAL' || answer.error === 'EXDEV' : answer.error === 'ENETUNREACH';
  if (!refusedSource) return answer;
  const { src: _src, iif: _iif, ...rest } = query;
  return tables.route(family, dst, rest);
}

/**
 * BPF_FIB_LOOKUP_DIRECT: table `table` alone. The rules' own answer (one question) is the
 * table's when it came from that table (the rules only chose where to look; an IPv4 main
 * table still merged with the local one reports local routes as main's, as a direct lookup
 * finds them), and so is its refusal under the default rules; else the table's routes are
 * looked up here.
 */
export function directLookup(tables: RouteTables, family: number, dst: Uint8Array, table: number, query: RouteQuery): RouteAnswer {
  const plain = ruleLookup(tables, family, dst, { ...query, mark: 0, fibMatch: true });
  if ('error' in plain ? table === RT_TABLE_MAIN && defaultRules(tables.rules(family), family) : plain.table === table) return plain;
  return tableLookup(tables.routes(family, table), dst, query.oif ?? 0, query.tos ?? 0);
}

/**
 * A multipath route's next hop for the flow, as fib_select_path / fib6_select_path choose
 * it: with an OUTPUT device, the first live one through it (no hashing); else the one the
 * kernel's own route for the flow takes (`made`: RTM_GETROUTE on the input path with the
 * flow's fields, which hashes them as the helper does), or the first live one.
 */
export function chooseHop(route: RouteEntry, oif: number, made: () => RouteAnswer): RouteEntry {
  const hops = hopsOf(route);
  if (hops.length < 2) return route;
  if (oif) return withHop(route, hops.find((h) => alive(h, oif)) ?? hops[0]!);
  const answer = made();
  const same = (a?: Uint8Array, b?: Uint8Array): boolean => (a ?? []).toString() === (b ?? []).toString();
  const taken = 'error' in answer ? undefined : hops.find((h) => h.oif === answer.oif && same(h.gateway, answer.gateway));
  return withHop(route, taken ?? hops.find((h) => alive(h, 0)) ?? hops[0]!);
}
