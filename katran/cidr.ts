// Networks in the CIDR form katran's source-routing rules take ("10.0.0.0/8", "fc00::/64").
// katran parses them with folly's createNetwork: an address, a slash and a prefix length
// no longer than the family's bits; the address is then masked to the prefix, so
// "10.1.2.3/8" names the network 10.0.0.0/8. A bare address is not a network.

import { type IpAddress, formatIp, parseIp } from './ip.js';

export interface Cidr {
  /** Network address, host bits cleared. */
  addr: IpAddress;
  prefixLen: number;
}

/** The network, or why `text` is not one. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  if (slash < 0) return 'has no /prefix length';
  const addrText = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  const addr = addrText.startsWith('[') ? undefined : parseIp(addrText);
  if (!addr) return `'${addrText}' is not an IPv4 or IPv6 address`;
  const bits = addr.bytes.length * 8;
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > bits) return `prefix length '${lenText}' is not in 0..${bits}`;
  const prefixLen = Number(lenText);
  return { addr: { family: addr.family, bytes: maskBytes(addr.bytes, prefixLen) }, prefixLen };
}

function maskBytes(bytes: Uint8Array, prefixLen: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixLen - i * 8));
    out[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

/** "network/len" as katran prints a rule's source. */
export const formatCidr = (c: Cidr): string => `${formatIp(c.addr)}/${c.prefixLen}`;
