// The host's tables for bpf_fib_lookup in userspace (runtime/fib.ts RouteTables): routes,
// neighbours and links through the addon's rtnetlink client, forwarding and IPv6 MTU from
// /proc/sys. Every answer is the kernel's at the moment of the lookup, in the network
// namespace this process runs in, so a route or neighbour changed while a program runs is
// seen by the next packet, as in the kernel.

import { readFileSync } from 'node:fs';
import type { LinkAnswer, RouteAnswer, RouteEntry, RouteTables, RuleAnswer } from '../core/route-tables.js';
import { nativeAddon } from './addon.js';
import { HELPER_ID } from '../core/helper-ids.js';

function sysctl(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The host's tables (the addon must be built). */
export function hostRouteTables(): RouteTables {
  const addon = nativeAddon();
  return {
    route: (family, dst, query) => addon.routeGet(family, dst, query) as RouteAnswer,
    routes: (family, table) => addon.routeDump(family, table) as RouteEntry[],
    rules: (family) => addon.ruleDump(family) as RuleAnswer[],
    neighbour: (family, ifindex, address) => addon.neighGet(family, ifindex, address),
    link: (ifindex) => addon.linkGet(ifindex) as LinkAnswer | undefined,
    forwarding: (family, device) => sysctl(`/proc/sys/net/${family === 10 ? 'ipv6' : 'ipv4'}/conf/${device}/forwarding`) === '1',
    ipv6Mtu: (device) => Number(sysctl(`/proc/sys/net/ipv6/conf/${device}/mtu`) ?? 0),
  };
}

/** The host's tables when a module calls bpf_fib_lookup (its manifest's helper ids), else none. */
export function routeTablesFor(helpers: readonly number[]): RouteTables | undefined {
  return helpers.includes(HELPER_ID.fib_lookup) ? hostRouteTables() : undefined;
}
