// Live counters: one row of float64 slots per worker in a SharedArrayBuffer. Each slot has
// a single writer (its worker), so plain stores suffice; the main thread reads snapshots
// and turns two of them into the periodic stats line.

import { XDP_ACTION_NAME } from '../runtime/xdp.js';

const ACTIONS = 5;
/** Slots per worker: packets and bytes per action, then the events below. */
export const SLOT = {
  packets: (action: number): number => action * 2,
  bytes: (action: number): number => action * 2 + 1,
  /** Runs that faulted (counted under XDP_ABORTED too). */
  faults: 10,
  /** Frames the TX ring had no room for. */
  txDropped: 11,
  /** XDP_PASS frames the TAP would not take. */
  passDropped: 12,
  /** XDP_REDIRECT frames with no usable target. */
  redirectDropped: 13,
  /** Actions outside XDP_ABORTED..XDP_REDIRECT (the kernel drops them with a warning). */
  invalidAction: 14,
} as const;
export const SLOTS_PER_WORKER = 16;

/** Counts one verdict and its bytes in a worker's row; an unknown action as XDP_ABORTED. */
export function countAction(row: Float64Array, action: number, bytes: number): void {
  if (!(action >= 0 && action < ACTIONS)) {
    row[SLOT.invalidAction]!++;
    action = 0; // XDP_ABORTED
  }
  row[SLOT.packets(action)]!++;
  row[SLOT.bytes(action)]! += bytes;
}

export class LiveStats {
  readonly buffer: SharedArrayBuffer;

  constructor(
    readonly workers: number,
    buffer?: SharedArrayBuffer,
  ) {
    this.buffer = buffer ?? new SharedArrayBuffer(workers * SLOTS_PER_WORKER * 8);
  }

  /** The row a worker writes. */
  row(worker: number): Float64Array {
    return new Float64Array(this.buffer, worker * SLOTS_PER_WORKER * 8, SLOTS_PER_WORKER);
  }

  snapshot(): StatsSnapshot {
    return { at: performance.now(), rows: Array.from({ length: this.workers }, (_, w) => Float64Array.from(this.row(w))) };
  }
}

export interface StatsSnapshot {
  at: number;
  rows: Float64Array[];
}

export interface ActionTotals {
  packets: Record<string, number>;
  bytes: Record<string, number>;
  faults: number;
  txDropped: number;
  passDropped: number;
  redirectDropped: number;
  invalidAction: number;
  perWorker: number[];
  total: number;
}

export function totals(s: StatsSnapshot): ActionTotals {
  const out: ActionTotals = {
    packets: {},
    bytes: {},
    faults: 0,
    txDropped: 0,
    passDropped: 0,
    redirectDropped: 0,
    invalidAction: 0,
    perWorker: [],
    total: 0,
  };
  for (let a = 0; a < ACTIONS; a++) {
    const name = XDP_ACTION_NAME[a]!;
    out.packets[name] = s.rows.reduce((sum, r) => sum + r[SLOT.packets(a)]!, 0);
    out.bytes[name] = s.rows.reduce((sum, r) => sum + r[SLOT.bytes(a)]!, 0);
  }
  for (const key of ['faults', 'txDropped', 'passDropped', 'redirectDropped', 'invalidAction'] as const) {
    out[key] = s.rows.reduce((sum, r) => sum + r[SLOT[key]]!, 0);
  }
  out.perWorker = s.rows.map((r) => Array.from({ length: ACTIONS }, (_, a) => r[SLOT.packets(a)]!).reduce((x, y) => x + y, 0));
  out.total = out.perWorker.reduce((x, y) => x + y, 0);
  return out;
}

/** One line: packets and bytes per action, per worker, and the rate since `before`. */
export function formatStatsLine(before: StatsSnapshot, now: StatsSnapshot): string {
  const a = totals(before);
  const b = totals(now);
  const seconds = Math.max((now.at - before.at) / 1000, 1e-3);
  const pps = Math.round((b.total - a.total) / seconds);
  const actions = Object.keys(b.packets)
    .filter((name) => b.packets[name]! > 0)
    .map((name) => `${name.slice(4)} ${b.packets[name]}/${b.bytes[name]}B`)
    .join(' ');
  const workers = b.perWorker.map((n, i) => `w${i} ${n}`).join(' ');
  const problems = (['faults', 'txDropped', 'passDropped', 'redirectDropped', 'invalidAction'] as const)
    .filter((k) => b[k] > 0)
    .map((k) => `${k} ${b[k]}`)
    .join(' ');
  return `stats: ${b.total} pkts ${pps} pps | ${actions || 'no packets'} | ${workers}${problems ? ` | ${problems}` : ''}`;
}
