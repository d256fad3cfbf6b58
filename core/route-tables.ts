// What bpf_fib_lookup in userspace (runtime/fib.ts) asks of the host: its routing,
// neighbour and link tables. The native addon answers (native/fib.ts, rtnetlink); the
// runtime never imports it, so the interface lives here, between the two.

/** One next hop of a multipath route. */
export interface NextHop {
  oif: number;
  /** RTNH_F_* (RTNH_F_DEAD 1, RTNH_F_LINKDOWN 16). */
  flags: number;
  weight: number;
  gateway?: Uint8Array;
  viaFamily?: number;
  encap?: boolean;
}

/** A FIB entry: what a lookup matched, or one route of a table's dump. */
export interface RouteEntry {
  /** RTN_* of the matched entry. */
  type: number;
  table: number;
  priority: number;
  oif: number;
  gateway?: Uint8Array;
  /** AF_INET or AF_INET6 for the gateway (an IPv4 route may have an IPv6 next hop). */
  viaFamily?: number;
  /** The preferred source, when the route names one (or, asked without fibMatch, the one chosen). */
  prefsrc?: Uint8Array;
  mtu?: number;
  mtuLocked: boolean;
  multipath?: boolean;
  /** A multipath route's next hops, in the kernel's order. */
  nexthops?: NextHop[];
  encap?: boolean;
  /** The route's prefix (dumps): destination bytes (absent for a default route) and length. */
  dst?: Uint8Array;
  dstLen?: number;
  tos?: number;
  /** rtm_flags (RTNH_F_DEAD, RTNH_F_LINKDOWN of a single next hop). */
  flags?: number;
  /** The id of a nexthop object the route uses (`ip route ... nhid N`). */
  nexthopObject?: number;
}

/** The route the kernel's FIB lookup matched, or the errno name of its refusal. */
export type RouteAnswer = { error: string } | RouteEntry;

/**
 * The flow a route question is about, as RTM_GETROUTE takes it. With `iif` the question is
 * the input path's (policy rules see the input device); `fibMatch` asks for the FIB entry
 * (a multipath route with every next hop), else for the route made for this flow (the next
 * hop chosen by the flow's hash, and for an output question the source address picked).
 */
export interface RouteQuery {
  iif?: number;
  oif?: number;
  mark?: number;
  src?: Uint8Array;
  tos?: number;
  proto?: number;
  sport?: number;
  dport?: number;
  /** IPv6: the flow label (20 bits). */
  flowlabel?: number;
  fibMatch: boolean;
}

export interface LinkAnswer {
  name: string;
  mtu: number;
  address?: Uint8Array;
  /** The ifindex of the device's master (a VRF, a bridge), if any. */
  master?: number;
  /** A VRF device's routing table. */
  vrfTable?: number;
}

/** A policy rule: its table (0 for none), FR_ACT_* action, priority; `selectors` when it matches on anything. */
export interface RuleAnswer {
  priority: number;
  table: number;
  action: number;
  selectors: boolean;
}

export interface RouteTables {
  /** A route question for `dst` (4 or 16 bytes). */
  route(family: number, dst: Uint8Array, query: RouteQuery): RouteAnswer;
  /** Every route of table `table`. */
  routes(family: number, table: number): RouteEntry[];
  /** The policy rules, in the kernel's order. */
  rules(family: number): RuleAnswer[];
  neighbour(family: number, ifindex: number, address: Uint8Array): { state: number; lladdr?: Uint8Array } | undefined;
  link(ifindex: number): LinkAnswer | undefined;
  /** net.ipv4/ipv6.conf.<dev>.forwarding. */
  forwarding(family: number, device: string): boolean;
  /** net.ipv6.conf.<dev>.mtu (an IPv6 route's MTU comes from it). */
  ipv6Mtu(device: string): number;
}
