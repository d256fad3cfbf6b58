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
import { makeKfuncs } from './kfuncs.js';
import { dynptrFunctions } from './dynptr.js';
import { spinLockHelpers, type HeldSpinLock } from './spin-lock.js';
import { FIB_PARAMS_SIZE, fibLookup, type RouteTables } from './fib.js';
import type { HelperImports } from './interp.js';
import type { MapTable } from './maps/index.js';
import { FdArrayMap, HashMap, PerfEventArrayMap, RingbufMap } from './maps/index.js';
import { MAP_TYPE } from '../core/map-types.js';

/** bpf_redirect_map's flags (uapi): the fallback action's bits, and the devmap broadcast flags. */
const REDIRECT_FALLBACK_MASK = 3n;
const BPF_F_BROADCAST = 1n << 3n;
const BPF_F_EXCLUDE_INGRESS = 1n << 4n;
const BROADCAST_FLAGS = BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS;

const EINVAL = -22n;
const ENOENT = -2n;
const EFAULT = -14n;
/** BPF_F_INDEX_MASK (BPF_F_CURRENT_CPU when all ones) and BPF_F_CTX_LEN_MASK. */
const PERF_INDEX_MASK = 0xffffffffn;
const PERF_CTX_LEN_MASK = 0xfffffn << 32n;
const u32 = (x: bigint): number => Number(x & 0xffffffffn);
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
  /** The host's tables for bpf_fib_lookup (native/fib.ts); without them it faults the packet. */
  routeTables?: RouteTables;
  /** The bpf_spin_lock this worker holds, released by the machine when a run faults. */
  spinLock?: HeldSpinLock;
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
  const dynptr = dynptrFunctions(env, check);
  return {
    ...makeKfuncs(dynptr),
    dynptr_read: dynptr.dynptr_read!,
    dynptr_write: dynptr.dynptr_write!,
    dynptr_data: dynptr.dynptr_data!,
    ...spinLockHelpers(env.memory, cpu, env.spinLock ?? { address: 0 }, check),
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
    perf_event_output: (_ctx, m, flags, data, size) => {
      const map = mapOf(m);
      if (!(map instanceof PerfEventArrayMap)) return EINVAL;
      // bpf_xdp_event_output: the upper 32 bits ask for that many bytes of the packet after `data`.
      if (flags & ~(PERF_CTX_LEN_MASK | PERF_INDEX_MASK)) return EINVAL;
      const packetBytes = Number((flags & PERF_CTX_LEN_MASK) >> 32n);
      if (packetBytes > env.xdp.length) return EFAULT;
      const slot = flags & PERF_INDEX_MASK;
      check('perf_event_output', 'data', addr(data), Number(size));
      const meta = bytes().slice(addr(data), addr(data) + Number(size));
      const packet = packetBytes ? env.xdp.packet().slice(0, packetBytes) : new Uint8Array(0);
      return BigInt(map.output(slot === PERF_INDEX_MASK ? cpu : Number(slot), cpu, [meta, packet]));
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
    xdp_load_bytes: (_ctx, off, buf, len) => copyPacket(env.xdp, bytes(), u32(off), addr(buf), u32(len), 'load', check),
    xdp_store_bytes: (_ctx, off, buf, len) => copyPacket(env.xdp, bytes(), u32(off), addr(buf), u32(len), 'store', check),
    fib_lookup: (_ctx, params, plen, flags) => {
      if (!env.routeTables)
        throw new BpfFault(FAULT.UNKNOWN_HELPER, -1, 'bpf_fib_lookup: no routing tables here (the native addon reads them)');
      const size = Math.min(u32(plen), FIB_PARAMS_SIZE);
      check('fib_lookup', 'params', addr(params), size);
      return BigInt(fibLookup(env.routeTables, bytes().subarray(addr(params), addr(params) + size), u32(plen), u32(flags)));
    },
    redirect: (ifindex, flags) => {
      if (flags !== 0n) return BigInt(XDP_ACTION.ABORTED);
      env.xdp.redirect = { kind: 'ifindex', target: Number(ifindex & 0xffffffffn) };
      return BigInt(XDP_ACTION.REDIRECT);
    },
    redirect_map: (m, key, flags) => {
      const map = mapOf(m);
      if (!map) return flags & REDIRECT_FALLBACK_MASK; // no such map: no entry either
      const devmap = map.spec.type === MAP_TYPE.DEVMAP || map.spec.type === MAP_TYPE.DEVMAP_HASH;
      // As the kernel: bits beyond the fallback action (and, for devmaps, the broadcast
      // flags) abort; a missing entry returns the fallback action in the low two bits,
      // unless broadcasting, which needs no entry; a later call replaces an earlier target.
      if (flags & ~(REDIRECT_FALLBACK_MASK | (devmap ? BROADCAST_FLAGS : 0n))) return BigInt(XDP_ACTION.ABORTED);
      const k = Number(key & 0xffffffffn);
      const broadcast = (flags & BPF_F_BROADCAST) !== 0n;
      const present = (map instanceof FdArrayMap || map instanceof HashMap) && map.target(k) >= 0;
      if (!present && !broadcast) {
        env.xdp.redirect = undefined;
        return flags & REDIRECT_FALLBACK_MASK;
      }
      env.xdp.redirect = broadcast
        ? { kind: 'broadcast', target: map.handle, excludeIngress: (flags & BPF_F_EXCLUDE_INGRESS) !== 0n }
        : { kind: 'map', target: map.handle, key: k };
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
 * bpf_csum_diff as kernels since 6.13 compute it, the same on every architecture: the
 * one's complement difference csum(to) - csum(from), started from the seed, folded to 16
 * bits (not complemented). Any sizes (the verifier proved the memory); a size that is not
 * a multiple of 4 sums its last word zero-padded, as csum_partial does.
 */
export function csumDiff(mem: Uint8Array, from: number, fromSize: number, to: number, toSize: number, seed: bigint): bigint {
  let ret = Number(seed & 0xffffffffn);
  if (fromSize && toSize) ret = csumAdd(csumPartial(mem, to, toSize, ret), ~csumPartial(mem, from, fromSize, 0) >>> 0);
  else if (toSize) ret = csumPartial(mem, to, toSize, ret);
  else if (fromSize) ret = ~csumPartial(mem, from, fromSize, ~ret >>> 0) >>> 0;
  return BigInt(csumFrom32to16(ret));
}

/**
 * csum_partial's 32-bit result: the sum of the little-endian 32-bit words and the seed with
 * end-around carry. Like any one's complement adder it gives 0 only when everything is 0;
 * other multiples of 2^32-1 come out as 0xffffffff.
 */
function csumPartial(mem: Uint8Array, at: number, size: number, seed: number): number {
  let sum = BigInt(seed);
  const view = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  let i = 0;
  for (; i + 4 <= size; i += 4) sum += BigInt(view.getUint32(at + i, true));
  for (let shift = 0n; i < size; i++, shift += 8n) sum += BigInt(mem[at + i]!) << shift;
  return sum === 0n ? 0 : Number(((sum - 1n) % 0xffffffffn) + 1n);
}

/** The kernel's csum_add: a 32-bit add whose carry goes back in. */
function csumAdd(a: number, b: number): number {
  const r = (a + b) >>> 0;
  return (r + (r < b ? 1 : 0)) >>> 0;
}

/** The kernel's csum_from32to16: the two halves added with end-around carry. */
function csumFrom32to16(x: number): number {
  return ((x + (((x >>> 16) | (x << 16)) >>> 0)) >>> 0) >>> 16;
}

/**
 * bpf_xdp_load_bytes / store_bytes: `len` bytes at packet offset `off`, which may run from
 * the linear area into a multi-buffer packet's fragments. Offsets or lengths beyond 0xffff
 * are -EFAULT, a range beyond the packet -EINVAL (the kernel's bpf_xdp_pointer).
 */
function copyPacket(
  xdp: XdpContext,
  mem: Uint8Array,
  off: number,
  buf: number,
  len: number,
  dir: 'load' | 'store',
  check: ReturnType<typeof pointerCheck>,
): bigint {
  if (off > 0xffff || len > 0xffff) return EFAULT;
  if (len === 0 || off + len > xdp.length) return EINVAL;
  check(`xdp_${dir}_bytes`, 'buffer', buf, len);
  const linear = xdp.dataEnd - xdp.data;
  const inLinear = Math.max(0, Math.min(len, linear - off));
  const start = xdp.data + off;
  const inFragments = xdp.fragments.subarray(off + inLinear - linear, off + len - linear);
  if (dir === 'load') {
    mem.copyWithin(buf, start, start + inLinear);
    mem.set(inFragments, buf + inLinear);
  } else {
    mem.copyWithin(start, buf, buf + inLinear);
    inFragments.set(mem.subarray(buf + inLinear, buf + len));
  }
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
