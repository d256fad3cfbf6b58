// IP address parsing and printing the way katran sees addresses: folly::IPAddress accepts
// what inet_pton accepts (dotted quads without leading zeros, RFC 4291 IPv6 text) and
// prints what inet_ntop prints. Parsing returns network-order bytes.

export interface IpAddress {
  family: 4 | 6;
  /** 4 bytes (v4) or 16 bytes (v6), network order. */
  bytes: Uint8Array;
}

function parseV4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // inet_pton: 1-3 decimal digits, no leading zero unless the octet is "0".
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function parseV6(text: string): Uint8Array | undefined {
  if (text.length === 0) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string): string[] | undefined => (s === '' ? [] : s.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const words: number[] = [];
  const pushGroups = (groups: string[], isLast: boolean): boolean => {
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (isLast && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        if (!v4) return false;
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
        words.push(parseInt(g, 16));
      }
    }
    return true;
  };
  const compressed = halves.length === 2;
  if (!pushGroups(head, !compressed)) return undefined;
  const headWords = words.length;
  if (!pushGroups(tail, true)) return undefined;
  const tailWords = words.splice(headWords);
  if (compressed) {
    const missing = 8 - headWords - tailWords.length;
    if (missing < 1) return undefined;
    for (let i = 0; i < missing; i++) words.push(0);
  }
  words.push(...tailWords);
  if (words.length !== 8) return undefined;
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Parses an IPv4 or IPv6 address (IPv6 may be given in brackets); undefined if malformed. */
export function parseIp(text: string): IpAddress | undefined {
  if (text.startsWith('[') && text.endsWith(']')) {
    const bytes = parseV6(text.slice(1, -1));
    return bytes && { family: 6, bytes };
  }
  if (text.includes(':')) {
    const bytes = parseV6(text);
    return bytes && { family: 6, bytes };
  }
  const bytes = parseV4(text);
  return bytes && { family: 4, bytes };
}

/** ::ffff:a.b.c.d. folly treats it as equal to (and hashes it like) the IPv4 address a.b.c.d. */
export function isV4Mapped(addr: IpAddress): boolean {
  if (addr.family !== 6) return false;
  for (let i = 0; i < 10; i++) if (addr.bytes[i] !== 0) return false;
  return addr.bytes[10] === 0xff && addr.bytes[11] === 0xff;
}

/** The IPv4 address an address stands for in folly's equality, or the address itself. */
export function unmapV4(addr: IpAddress): IpAddress {
  return isV4Mapped(addr) ? { family: 4, bytes: addr.bytes.slice(12) } : addr;
}

/** inet_ntop text: dotted quad, or lowercase IPv6 with the longest run (>= 2) of zero words as "::". */
export function formatIp(addr: IpAddress): string {
  const b = addr.bytes;
  if (addr.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const words = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  // Separators follow glibc: the compressed run contributes one ':' where it starts, and
  // every printed word after the first is preceded by ':' (so a run gives "::").
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestStart >= 0 && i >= bestStart && i < bestStart + bestLen) {
      if (i === bestStart) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // glibc prints an embedded IPv4 for ::a.b.c.d and ::ffff:a.b.c.d.
    if (i === 6 && bestStart === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
      return out;
    }
    out += words[i]!.toString(16);
  }
  if (bestStart >= 0 && bestStart + bestLen === 8) out += ':';
  return out;
}

/** 16-byte form used in maps: v4 in the first 4 bytes, rest zero; v6 as is. */
export function addressToMapBytes(addr: IpAddress): Uint8Array {
  const out = new Uint8Array(16);
  out.set(addr.bytes, 0);
  return out;
}
