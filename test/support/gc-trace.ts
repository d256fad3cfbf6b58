// V8's --trace-gc lines from a run's stdout, read back as the live heap after each full
// (mark-compact) collection, per isolate (the main thread and each worker have their own).
// RSS mixes what V8 has not given back with what is live; the heap left after a full
// collection is what a leak makes grow.

export interface FullGc {
  /** ms since the isolate started. */
  at: number;
  /** Heap in use after the collection, MB (V8's own unit). */
  liveMb: number;
  /** Heap V8 holds (committed) after it, MB. */
  committedMb: number;
}

//   [1234:0x5d8e8c0]   33012 ms: Mark-Compact 45.2 (60.1) -> 30.1 (55.0) MB, ...
const LINE = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/;

/** Full collections by isolate, in order. */
export function fullGcs(lines: string[]): Map<string, FullGc[]> {
  const out = new Map<string, FullGc[]>();
  for (const line of lines) {
    const m = LINE.exec(line);
    if (!m) continue;
    const list = out.get(m[1]!) ?? [];
    list.push({ at: Number(m[2]), liveMb: Number(m[3]), committedMb: Number(m[4]) });
    out.set(m[1]!, list);
  }
  return out;
}
