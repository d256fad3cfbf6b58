// What bpf_fib_lookup in userspace (runtime/fib.ts) asks of the host: its routing,
// neighbour and link tables. The native addon answers (native/fib.ts, rtnetlink); the
// runtime never imports it, so the interface lives here, between the two.

/** The route the kernel's FIB lookup matched, or the errno name of its refusal. */
export type RouteAnswer =
  | { error: string }
  | {
      /** RTN_* of the matched entry. */
      type: number;
      table: number;
      priority: number;
      oif: number;
      gateway?: Uint8Array;
      /** AF_INET or AF_INET6 for the gateway (an IPv4 route may have an IPv6 next hop). */
      viaFamily?: number;
      /** The preferred source, when the route names one (or, asked with `source`, the one chosen). */
      prefsrc?: Uint8Array;
      mtu?: number;
      mtuLocked: boolean;
      multipath?: boolean;
      encap?: boolean;
    };

export interface LinkAnswer {
  name: string;
  mtu: number;
  address?: Uint8Array;
}

export interface RouteTables {
  /** A FIB lookup for `dst` (4 or 16 bytes); `source`: ask which source address the host would pick. */
  route(family: number, dst: Uint8Array, oif: number, mark: number, source: boolean): RouteAnswer;
  neighbour(family: number, ifindex: number, address: Uint8Array): { state: number; lladdr?: Uint8Array } | undefined;
  link(ifindex: number): LinkAnswer | undefined;
  /** net.ipv4/ipv6.conf.<dev>.forwarding. */
  forwarding(family: number, device: string): boolean;
  /** net.ipv6.conf.<dev>.mtu (an IPv6 route's MTU comes from it). */
  ipv6Mtu(device: string): number;
}
