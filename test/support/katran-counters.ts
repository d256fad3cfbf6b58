// Counter maps compared across backends: per-CPU values summed per key, the way katran's
// control plane reports them, so that a run in userspace (one worker) and a run in the
// kernel (whichever CPU ran it) can be checked against each other.

/** The kernel's possible CPUs (per-CPU map values come one per possible CPU). */
export { possibleCpus } from './cpus.js';

/** stats[514] (NEW_CONN_RATE) holds a ktime window start: clock-dependent, so left out. */
const CLOCK_DEPENDENT: Record<string, string> = { stats: '02020000' };

/**
 * Per key, the sum over CPUs of each counter word (u64 when the value is a multiple of 8
 * bytes, else u32), as "key=a/b/..." lines for the keys with anything non-zero, sorted.
 */
export function sumPerCpuCounters(entries: Iterable<[Uint8Array, Uint8Array[]]>, map: string): string[] {
  const out: string[] = [];
  for (const [key, values] of entries) {
    const keyHex = Buffer.from(key).toString('hex');
    if (CLOCK_DEPENDENT[map] === keyHex) continue;
    const width = values[0]!.length % 8 === 0 ? 8 : 4;
    const sums = new Array<bigint>(Math.floor(values[0]!.length / width)).fill(0n);
    for (const v of values) {
      const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
      sums.forEach((s, i) => {
        sums[i] = s + (width === 8 ? d.getBigUint64(i * 8, true) : BigInt(d.getUint32(i * 4, true)));
      });
    }
    if (sums.some((s) => s !== 0n)) out.push(`${keyHex}=${sums.join('/')}`);
  }
  return out.sort();
}

/** A userspace per-CPU map's entries split into one value per CPU (copies are 8-byte aligned). */
export function splitPerCpu(entries: Iterable<[Uint8Array, Uint8Array]>, valueSize: number): [Uint8Array, Uint8Array[]][] {
  const stride = Math.ceil(valueSize / 8) * 8;
  return [...entries].map(([k, v]) => [
    k,
    Array.from({ length: Math.max(1, Math.floor(v.length / stride)) }, (_, i) => v.subarray(i * stride, i * stride + valueSize)),
  ]);
}
