// The text katran's Go client prints (KATRAN.md §5), reproduced byte for byte: Go `log`
// timestamps, `%20v`-style padding, `%.2f` with Go's rounding, and the `-s -lru` summary
// whose syn / non-syn / udp shares are printed as plain ratios followed by '%'.

/** Go's log prefix (LstdFlags): local "2006/01/02 15:04:05 ". */
export function goLogPrefix(d: Date = new Date()): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${two(d.getMonth() + 1)}/${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} `;
}

/**
 * Go's %.2f: the exact binary value rounded half to even. JavaScript's toFixed rounds an
 * exact tie up instead; at two decimals the only exact ties are odd multiples of 1/8
 * (0.125, 0.375, ...), where x * 8 is an odd integer and x * 100 ends in exactly .5.
 */
export function goFixed2(x: number): string {
  const eighths = x * 8;
  if (Number.isInteger(eighths) && eighths % 2 !== 0 && Math.abs(x) < 2 ** 40) {
    const scaled = x * 100; // exact: an odd multiple of 12.5
    const down = Math.floor(scaled);
    const even = down % 2 === 0 ? down : down + 1;
    return (even / 100).toFixed(2);
  }
  return x.toFixed(2);
}

const VIP_FLAG_WORDS: ReadonlyArray<[bigint, string]> = [
  [1n, ' NO_SPORT '],
  [2n, ' NO_LRU '],
  [4n, ' QUIC_VIP '],
  [8n, ' DPORT_HASH '],
  [32n, ' LOCAL_VIP '],
];

export interface ListedVip {
  address: string;
  port: number;
  protocol: number;
}
export interface ListedReal {
  address: string;
  weight: number;
  flags: number;
}

/** The lines `-l` prints for one VIP (after the `vips len N` log line). */
export function formatVipListing(vip: ListedVip, flags: bigint, reals: readonly ListedReal[]): string[] {
  const lines = [
    `VIP: ${vip.address.padStart(20)} Port: ${String(vip.port).padStart(6)} Protocol: ${vip.protocol === 6 ? 'tcp' : 'udp'}`,
    `Vip's flags: ${VIP_FLAG_WORDS.filter(([bit]) => (flags & bit) !== 0n)
      .map(([, w]) => w)
      .join('')}`,
  ];
  for (const r of reals) {
    lines.push(`${` ->${r.address}`.padEnd(20)} weight: ${r.weight} flags: ${r.flags & 2 ? ' LOCAL_REAL ' : ''}`);
  }
  return lines;
}

/** Counter differences between two samples, as Go's uint64 subtraction gives them. */
export const u64Delta = (now: bigint, before: bigint): bigint => BigInt.asUintN(64, now - before);

export interface LruDeltas {
  /** stats[512]: packets reaching real selection (v1), LRU misses (v2). */
  total: bigint;
  miss: bigint;
  /** stats[513]: TCP SYN misses (v1), TCP non-SYN misses (v2). */
  tcpSynMiss: bigint;
  tcpNonSynMiss: bigint;
  /** stats[515].v1: packets served by fallback_cache. */
  fallback: bigint;
}

/** The `-s -lru` line, with katran's float arithmetic and its odd percent signs. */
export function formatLruSummary(d: LruDeltas): string {
  let miss = 0;
  let syn = 0;
  let nonSyn = 0;
  let udp = 0;
  let hit = 0;
  if (d.total !== 0n) {
    const total = Number(d.total);
    miss = Number(d.miss) / total;
    syn = Number(d.tcpSynMiss) / total;
    nonSyn = Number(d.tcpNonSynMiss) / total;
    udp = 1 - (syn + nonSyn);
    hit = 1 - miss;
  }
  return (
    `summary: ${d.total} pkts/sec. lru hit: ${goFixed2(hit * 100)}% lru miss: ${goFixed2(miss * 100)}% ` +
    `(tcp syn: ${goFixed2(syn)}% tcp non-syn: ${goFixed2(nonSyn)}% udp: ${goFixed2(udp)}%) fallback lru hit: ${d.fallback} pkts/sec`
  );
}

/** `-s` (per VIP): key is address:port:protocol. */
export function formatVipStats(key: string, pkts: bigint, bytes: bigint): string {
  return `vip: ${key.padStart(16)} : ${String(pkts).padStart(8)} pkts/sec ${String(bytes).padStart(8)} bytes/sec`;
}

export const formatSumStats = (pkts: bigint, bytes: bigint): string => `summary: ${pkts} pkts/sec ${bytes} bytes/sec`;

export const formatIcmpStats = (v4: bigint, v6: bigint): string => `ICMP "packet too big": v4 ${v4} pkts/sec v6: ${v6} pkts/sec`;

export const formatQuicMapping = (address: string, id: number): string =>
  `real: ${address.padStart(20)} = connection id: ${String(id).padStart(6)}`;

export const formatHealthcheck = (somark: number, address: string): string =>
  `somark: ${String(somark).padStart(10)} addr: ${address.padStart(10)}`;
