// bpf_fib_lookup for XDP (net/core/filter.c: bpf_xdp_fib_lookup, bpf_ipv4_fib_lookup,
// bpf_ipv6_fib_lookup) over the host's routing, neighbour and link tables. The tables are
// asked through `RouteTables` (core/route-tables.ts), which the runtime does not implement itself: the native
// addon does (native/fib.ts, rtnetlink in the process's network namespace), and tests may
// give their own. struct bpf_fib_lookup is read and written in place, with the kernel's
// return codes and the kernel's choice of which output fields it sets on each path.

import type { LinkAnswer, RouteAnswer, RouteEntry, RouteQuery, RouteTables } from '../core/route-tables.js';
import { chooseHop, directLookup, ruleLookup, RT_TABLE_MAIN } from './fib-table.js';

export type { LinkAnswer, RouteAnswer, RouteTables };

export const AF_INET = 2;
export const AF_INET6 = 10;
export const FIB_PARAMS_SIZE = 64;

export const FIB_FLAG = { DIRECT: 1, OUTPUT: 2, SKIP_NEIGH: 4, TBID: 8, SRC: 16, MARK: 32 } as const;
const KNOWN_FLAGS = 63;

export const FIB_RET = {
  SUCCESS: 0,
  BLACKHOLE: 1,
  UNREACHABLE: 2,
  PROHIBIT: 3,
  NOT_FWDED: 4,
  FWD_DISABLED: 5,
  UNSUPP_LWT: 6,
  NO_NEIGH: 7,
  FRAG_NEEDED: 8,
  NO_SRC_ADDR: 9,
} as const;

const RTN_UNICAST = 1;
/** NUD_VALID: PERMANENT | NOARP | REACHABLE | PROBE | STALE | DELAY. */
const NUD_VALID = 0x80 | 0x40 | 0x02 | 0x10 | 0x04 | 0x08;
const IPV6_MIN_MTU = 1280;
const IP_MAX_MTU = 0xffff;
const EINVAL = -22;
const ENODEV = -19;
const EAFNOSUPPORT = -97;

/** struct bpf_fib_lookup's fields (include/uapi/linux/bpf.h). */
const OFF = {
  family: 0,
  proto: 1,
  sport: 2,
  dport: 4,
  totLen: 6,
  ifindex: 8,
  tos: 12,
  src: 16,
  dst: 32,
  vlanProto: 48,
  vlanTci: 50,
  mark: 52,
  smac: 52,
  dmac: 58,
};

/** The kernel's mapping of FIB lookup errors to return codes. */
const ERROR_RET: Record<string, number> = { EINVAL: FIB_RET.BLACKHOLE, EHOSTUNREACH: FIB_RET.UNREACHABLE, EACCES: FIB_RET.PROHIBIT };

/** bpf_xdp_fib_lookup: `params` is the program's struct (plen bytes). */
export function fibLookup(tables: RouteTables, params: Uint8Array, plen: number, flags: number): number {
  if (plen < FIB_PARAMS_SIZE) return EINVAL;
  if ((flags & ~KNOWN_FLAGS) !== 0) return EINVAL;
  const view = new DataView(params.buffer, params.byteOffset, FIB_PARAMS_SIZE);
  const family = view.getUint8(OFF.family);
  if (family === AF_INET) return lookup(tables, view, params, flags, 4);
  if (family === AF_INET6) return lookup(tables, view, params, flags, 16);
  return EAFNOSUPPORT;
}

/** Link-local, multicast and loopback IPv6 addresses are never forwarded (rt6_need_strict). */
function ipv6Strict(a: Uint8Array): boolean {
  const loopback = a.subarray(0, 15).every((b) => b === 0) && a[15] === 1;
  return a[0] === 0xff || (a[0] === 0xfe && (a[1]! & 0xc0) === 0x80) || loopback;
}

function lookup(tables: RouteTables, view: DataView, params: Uint8Array, flags: number, width: 4 | 16): number {
  const v6 = width === 16;
  const family = v6 ? AF_INET6 : AF_INET;
  const dst = params.subarray(OFF.dst, OFF.dst + width);
  const src = params.subarray(OFF.src, OFF.src + width);
  if (v6 && (ipv6Strict(dst) || ipv6Strict(src))) return FIB_RET.NOT_FWDED;
  const ifindex = view.getUint32(OFF.ifindex, true);
  const inDev = tables.link(ifindex);
  if (!inDev) return ENODEV;
  if (!tables.forwarding(family, inDev.name)) return FIB_RET.FWD_DISABLED;
  const output = (flags & FIB_FLAG.OUTPUT) !== 0;
  const flow = flowOf(view, params, v6);
  // The helper's flow: ingress from `ifindex`, or (OUTPUT) egress through it from the host.
  const query: RouteQuery = output ? { ...flow, oif: ifindex, fibMatch: true } : { ...flow, iif: ifindex, fibMatch: true };
  let route: RouteAnswer;
  if (flags & FIB_FLAG.DIRECT) {
    let table = inDev.vrfTable ?? (inDev.master ? tables.link(inDev.master)?.vrfTable : undefined) ?? RT_TABLE_MAIN;
    if (flags & FIB_FLAG.TBID) {
      table = view.getUint32(OFF.vlanProto, true) || RT_TABLE_MAIN; // tbid shares the VLAN fields' place
      view.setUint32(OFF.vlanProto, 0, true);
    }
    route = directLookup(tables, family, dst.slice(), table, query);
  } else {
    if (flags & FIB_FLAG.MARK) query.mark = view.getUint32(OFF.mark, true);
    route = ruleLookup(tables, family, dst.slice(), query);
  }
  if ('error' in route) return ERROR_RET[route.error] ?? FIB_RET.NOT_FWDED;
  if (route.type !== RTN_UNICAST) return FIB_RET.NOT_FWDED;
  route = chooseHop(route, output ? ifindex : 0, () =>
    tables.route(family, dst.slice(), { ...query, oif: undefined, iif: ifindex, fibMatch: false }),
  );
  const outDev = tables.link(route.oif);
  if (!outDev) return FIB_RET.NOT_FWDED;

  const mtu = routeMtu(tables, route, outDev, v6);
  if (view.getUint16(OFF.totLen, true) > mtu) {
    view.setUint16(OFF.totLen, mtu, true); // mtu_result shares tot_len's place
    return FIB_RET.FRAG_NEEDED;
  }
  if (route.encap) return FIB_RET.UNSUPP_LWT;

  view.setUint32(OFF.tos, route.priority, true); // rt_metric
  view.setUint32(OFF.ifindex, route.oif, true);
  if (flags & FIB_FLAG.SRC) {
    const chosen = route.prefsrc ?? sourceOf(tables.route(family, dst.slice(), { oif: route.oif, fibMatch: false }));
    if (chosen) params.set(chosen, OFF.src);
    else if (v6) return FIB_RET.NO_SRC_ADDR;
    else params.fill(0, OFF.src, OFF.src + 4);
  }
  let hopFamily = family;
  if (route.gateway) {
    hopFamily = route.viaFamily ?? family;
    if (hopFamily === AF_INET6 && !v6) view.setUint8(OFF.family, AF_INET6);
    params.set(route.gateway, OFF.dst);
  }
  if (!(flags & FIB_FLAG.SKIP_NEIGH)) {
    const hop = params.slice(OFF.dst, OFF.dst + (hopFamily === AF_INET6 ? 16 : 4));
    const neighbour = tables.neighbour(hopFamily, route.oif, hop);
    if (!neighbour || (neighbour.state & NUD_VALID) === 0) return FIB_RET.NO_NEIGH;
    params.set((neighbour.lladdr ?? new Uint8Array(6)).subarray(0, 6), OFF.dmac);
    params.set((outDev.address ?? new Uint8Array(6)).subarray(0, 6), OFF.smac);
  }
  // bpf_fib_set_fwd_params
  view.setUint16(OFF.vlanTci, 0, true);
  view.setUint16(OFF.vlanProto, 0, true);
  if (mtu) view.setUint16(OFF.totLen, mtu, true);
  return FIB_RET.SUCCESS;
}

/** The flow fields the kernel's lookup takes from the struct (and hashes for multipath). */
function flowOf(view: DataView, params: Uint8Array, v6: boolean): RouteQuery {
  const flow: RouteQuery = {
    src: params.slice(OFF.src, OFF.src + (v6 ? 16 : 4)),
    proto: view.getUint8(OFF.proto),
    sport: view.getUint16(OFF.sport, false),
    dport: view.getUint16(OFF.dport, false),
    fibMatch: true,
  };
  if (v6) {
    const flowinfo = view.getUint32(OFF.tos, false); // network order: traffic class, flow label
    return { ...flow, tos: (flowinfo >>> 20) & 0xff, flowlabel: flowinfo & 0xfffff };
  }
  return { ...flow, tos: view.getUint8(OFF.tos) };
}

const sourceOf = (answer: RouteAnswer): Uint8Array | undefined => ('error' in answer ? undefined : answer.prefsrc);

/**
 * ip_mtu_from_fib_result / ip6_mtu_from_fib6: a locked route MTU wins, else the device's
 * (IPv6: the device's mtu6, at least 1280). Learnt path MTUs (exceptions) are not seen.
 */
function routeMtu(tables: RouteTables, route: RouteEntry, dev: LinkAnswer, v6: boolean): number {
  if (route.mtuLocked && route.mtu) return route.mtu;
  if (v6) return Math.min(Math.max(IPV6_MIN_MTU, tables.ipv6Mtu(dev.name)), 0xffffffff);
  return Math.min(dev.mtu, IP_MAX_MTU);
}
