// BPF helpers for one worker, by their Linux names (compiler/abi.ts HELPERS): the same
// functions serve compiled modules (as imports) and the interpreter. Arguments arrive as
// the raw 64-bit registers; results follow the kernel's conventions (0 / -errno).
// Pointer arguments are checked against the memory before use: the kernel's verifier
// proves them valid, ours does not, and a typed-array copy would silently clamp where
// wasm traps. A bad one faults the packet (FAULT.BAD_POINTER), on both engines alike.

import { FAULT } from '../core/abi.js';
import { BpfFault } from './fault.js';
import { XDP_ACTION, type XdpContext } from './xdp.js';
import { formatPrintk } from './printk.js';
import type { HelperImports } from './interp.js';
import type { MapTable } from './maps/index.js';
import { FdArrayMap, RingbufMap } from './maps/index.js';

const EINVAL = -22n;
const ENOENT = -2n;
/** MAX_TAIL_CALL_CNT in the kernel. */
export const MAX_TAIL_CALLS = 33;

export interface HelperEnv {
  memory: WebAssembly.Memory;
  maps: MapTable;
  /** get_smp_processor_id and per-CPU slot: the worker index. */
  cpu: number;
  xdp: XdpContext;
  /**
   * Monotonic nanoseconds; tests pass a controlled clock. ktime_get_ns reads the value the
   * worker took from it for the current batch or run (xdp.clockNs) unless `preciseClock`.
   */
  clock: () => bigint;
  /** ktime_get_ns asks `clock` on every call (else: once per batch). */
  preciseClock: boolean;
  /** trace_printk output (one line each). */
  trace: (line: string) => void;
}

const addr = (r: bigint): number => Number(r & 0xffffffffn);
const int32 = (r: bigint): number => Number(BigInt.asIntN(32, r));

/** A checker that `len` bytes at `at` lie inside the memory, else faults the packet. */
export function pointerCheck(memory: WebAssembly.Memory): (helper: string, what: string, at: number, len: number) => void {
  // The memory only grows: its size is re-read only when an access seems to lie beyond it.
  let size = memory.buffer.byteLength;
  return (helper, what, at, len) => {
    if (at + len <= size || at + len <= (size = memory.buffer.byteLength)) return;
    const where = `0x${at.toString(16)}`;
    throw new BpfFault(FAULT.BAD_POINTER, -1, `helper pointer argument outside memory: ${helper} ${what} ${where} (${len} bytes)`);
  };
}

export function makeHelpers(env: HelperEnv): HelperImports {
  const { maps, cpu } = env;
  const mapOf = (r: bigint) => maps.get(addr(r));
  const bytes = (): Uint8Array => new Uint8Array(env.memory.buffer);
  const check = pointerCheck(env.memory);
  return {
    map_lookup_elem: (m, key) => {
      const map = mapOf(m);
      if (!map) return 0n;
      check('map_lookup_elem', 'key', addr(key), map.keySize);
      return BigInt(map.lookup(addr(key), cpu));
    },
    map_update_elem: (m, key, value, flags) => {
      const map = mapOf(m);
      if (!map) return EINVAL;
      check('map_update_elem', 'key', addr(key), map.keySize);
      check('map_update_elem', 'value', addr(value), map.valueSize);
      return BigInt(map.update(addr(key), addr(value), flags, cpu));
    },
    map_delete_elem: (m, key) => {
      const map = mapOf(m);
      if (!map) return EINVAL;
      check('map_delete_elem', 'key', addr(key), map.keySize);
      return BigInt(map.delete(addr(key)));
    },
    map_lookup_percpu_elem: (m, key, c) => {
      const map = mapOf(m);
      if (!map || c >= BigInt(map.cpus)) return 0n;
      check('map_lookup_percpu_elem', 'key', addr(key), map.keySize);
      return BigInt(map.lookup(addr(key), Number(c)));
    },
    ktime_get_ns: env.preciseClock ? () => env.clock() : () => env.xdp.clockNs,
    ktime_get_boot_ns: () => env.clock(),
    ktime_get_coarse_ns: () => env.clock(),
    // HZ = 250 as Debian's kernels are built.
    jiffies64: () => env.clock() / 4_000_000n,
    get_prandom_u32: () => BigInt(env.xdp.nextRandom()),
    get_smp_processor_id: () => BigInt(cpu),
    get_numa_node_id: () => 0n,
    trace_printk: (fmt, size, a1, a2, a3) => {
      check('trace_printk', 'format', addr(fmt), Number(size & 0xffffn));
      const mem = bytes();
      const line = formatPrintk(mem.subarray(addr(fmt), addr(fmt) + Number(size & 0xffffn)), [a1, a2, a3], mem);
      if (line === undefined) return EINVAL;
      env.trace(line.replace(/\n$/, ''));
      return BigInt(line.length);
    },
    csum_diff: (from, fromSize, to, toSize, seed) => {
      check('csum_diff', 'from', addr(from), Number(fromSize));
      check('csum_diff', 'to', addr(to), Number(toSize));
      return csumDiff(bytes(), addr(from), Number(fromSize), addr(to), Number(toSize), seed);
    },
    xdp_adjust_head: (_ctx, delta) => BigInt(env.xdp.adjustHead(int32(delta))),
    xdp_adjust_meta: (_ctx, delta) => BigInt(env.xdp.adjustMeta(int32(delta))),
    xdp_adjust_tail: (_ctx, delta) => BigInt(env.xdp.adjustTail(int32(delta))),
    xdp_get_buff_len: () => BigInt(env.xdp.length),
    xdp_load_bytes: (_ctx, off, buf, len) => copyPacket(env.xdp, bytes(), Number(off), addr(buf), Number(len), 'load', check),
    xdp_store_bytes: (_ctx, off, buf, len) => copyPacket(env.xdp, bytes(), Number(off), addr(buf), Number(len), 'store', check),
    redirect: (ifindex, flags) => {
      if (flags !== 0n) return BigInt(XDP_ACTION.ABORTED);
      env.xdp.redirect = { kind: 'ifindex', target: Number(ifindex & 0xffffffffn) };
      return BigInt(XDP_ACTION.REDIRECT);
    },
    redirect_map: (m, key, flags) => {
      const map = mapOf(m);
      const k = Number(key & 0xffffffffn);
      // Missing entry: the low two bits of flags are the action to take instead.
      if (!map || !(map instanceof FdArrayMap) || map.target(k) < 0) return flags & 3n;
      env.xdp.redirect = { kind: 'map', target: map.handle, key: k };
      return BigInt(XDP_ACTION.REDIRECT);
    },
    tail_call: (_ctx, m, index) => {
      const map = mapOf(m);
      if (!map || !(map instanceof FdArrayMap) || env.xdp.tailCalls >= MAX_TAIL_CALLS) return ENOENT;
      const target = map.target(Number(index & 0xffffffffn));
      if (target < 0) return ENOENT;
      env.xdp.tailCalls++;
      return BigInt(target); // the program's index in the module's table

    },
    ringbuf_output: (m, data, size, flags) => {
      const map = mapOf(m);
      if (!(map instanceof RingbufMap)) return EINVAL;
      check('ringbuf_output', 'data', addr(data), Number(size));
      return BigInt(map.output(addr(data), Number(size), Number(flags)));
    },
    ringbuf_reserve: (m, size, flags) => {
      const map = mapOf(m);
      return map instanceof RingbufMap ? BigInt(map.reserve(Number(size), Number(flags))) : 0n;
    },
    ringbuf_submit: (sample, flags) => {
      ringbufOfSample(maps, addr(sample))?.submit(addr(sample), Number(flags));
      return 0n;
    },
    ringbuf_discard: (sample, flags) => {
      ringbufOfSample(maps, addr(sample))?.discard(addr(sample), Number(flags));
      return 0n;
    },
    ringbuf_query: (m, flags) => {
      const map = mapOf(m);
      return map instanceof RingbufMap ? map.query(Number(flags)) : 0n;
    },
  };
}

/** The ring buffer a reserved sample belongs to (samples live inside the ring's data area). */
function ringbufOfSample(maps: MapTable, sample: number): RingbufMap | undefined {
  for (const m of maps.maps) if (m instanceof RingbufMap && sample >= m.data && sample < m.data + 2 * m.size) return m;
  return undefined;
}

/**
 * bpf_csum_diff as current kernels compute it (the same on every architecture since 6.12):
 * the one's complement sum of the seed and the `to` bytes, minus that of the `from` bytes,
 * folded to 16 bits (not complemented). Which path runs decides how zero comes out (0 or
 * 0xffff), so the paths are kept apart: only `to` adds to the seed; only `from` is
 * subtracted by complementing around it. Any sizes are taken (older kernels wanted
 * multiples of 4, at most 512 bytes together); a tail of 1-3 bytes adds as x86's
 * csum_partial adds it: a u16, then a byte.
 */
export function csumDiff(mem: Uint8Array, from: number, fromSize: number, to: number, toSize: number, seed: bigint): bigint {
  if (from + fromSize > mem.length || to + toSize > mem.length) return EINVAL;
  const view = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  const partial = (at: number, size: number, init: number): number => {
    let sum = init;
    const words = size & ~3;
    for (let i = 0; i < words; i += 4) sum += view.getUint32(at + i, true);
    if (size & 2) sum += view.getUint16(at + words, true);
    if (size & 1) sum += view.getUint8(at + (size & ~1));
    return fold32(sum);
  };
  let ret = Number(seed & 0xffffffffn);
  if (fromSize && toSize) ret = fold32(partial(to, toSize, ret) + (~partial(from, fromSize, 0) >>> 0));
  else if (toSize) ret = partial(to, toSize, ret);
  else if (fromSize) ret = ~partial(from, fromSize, ~ret >>> 0) >>> 0;
  let half = (ret & 0xffff) + (ret >>> 16);
  half = (half & 0xffff) + (half >>> 16);
  return BigInt(half);
}

/** A sum of at most 2^21 u32 words folded to 32 bits, carries added back (exact in doubles). */
function fold32(sum: number): number {
  while (sum > 0xffffffff) sum = (sum % 0x100000000) + Math.floor(sum / 0x100000000);
  return sum;
}

function copyPacket(
  xdp: XdpContext, mem: Uint8Array, off: number, buf: number, len: number, dir: 'load' | 'store',
  check: ReturnType<typeof pointerCheck>,
): bigint {
  const start = xdp.data + off;
  if (off < 0 || len <= 0 || start + len > xdp.dataEnd) return EINVAL;
  check(`xdp_${dir}_bytes`, 'buffer', buf, len);
  if (dir === 'load') mem.copyWithin(buf, start, start + len);
  else mem.copyWithin(start, buf, buf + len);
  return 0n;
}

/**
 * The hot helpers with number arguments and results, for modules that import them with
 * i32 signatures (abi.ts I32_HELPERS): no BigInt on the per-packet path.
 */
export function makeI32Helpers(env: HelperEnv): Record<string, (...args: number[]) => number> {
  const { maps, cpu } = env;
  const check = pointerCheck(env.memory);
  return {
    map_lookup_elem: (m, key) => {
      const map = maps.get(m >>> 0);
      if (!map) return 0;
      check('map_lookup_elem', 'key', key >>> 0, map.keySize);
      return map.lookup(key >>> 0, cpu);
    },
    map_update_elem: (m, key, value, flags) => {
      const map = maps.get(m >>> 0);
      if (!map) return -22;
      check('map_update_elem', 'key', key >>> 0, map.keySize);
      check('map_update_elem', 'value', value >>> 0, map.valueSize);
      return map.update(key >>> 0, value >>> 0, flags >>> 0, cpu);
    },
    map_delete_elem: (m, key) => {
      const map = maps.get(m >>> 0);
      if (!map) return -22;
      check('map_delete_elem', 'key', key >>> 0, map.keySize);
      return map.delete(key >>> 0);
    },
    xdp_adjust_head: (_ctx, delta) => env.xdp.adjustHead(delta | 0),
    xdp_adjust_meta: (_ctx, delta) => env.xdp.adjustMeta(delta | 0),
    xdp_adjust_tail: (_ctx, delta) => env.xdp.adjustTail(delta | 0),
  };
}
