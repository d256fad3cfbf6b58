// XDP dynptrs at run time: the kfuncs bpf_dynptr_from_xdp / slice / slice_rdwr / adjust /
// is_null / is_rdonly / size / clone and the helpers bpf_dynptr_read / write / data, with the kernel's
// answers (kernel/bpf/helpers.c, net/core/filter.c's bpf_xdp_pointer and
// bpf_xdp_copy_buf). The verifier proves a program never reads a dynptr's 16 bytes, so
// their layout is ours: a word that is 1 while the dynptr is valid (0: NULL, as a failed
// bpf_dynptr_from_xdp leaves it), its size and its offset into the packet. An XDP dynptr
// is over the packet as it stands at each call (like the kernel's, it points at the
// xdp_buff), so its size is the packet's length when it was made, and a read beyond the
// packet as it is now fails as bpf_xdp_load_bytes does.
//
// Fragments: the kernel returns a slice inside one fragment page as a pointer into that
// page; a multi-buffer packet's fragments live outside the program's memory here, so a
// slice that reaches into them is always copied into the buffer (NULL without one), as
// the kernel copies a slice that crosses from one page into the next. A program that
// writes through an rdwr slice and then, as the kernel's documentation asks, calls
// bpf_dynptr_write when the slice is its buffer, changes the same bytes in both.

import { ERRNO } from '../core/errno.js';
import type { XdpContext } from './xdp.js';
import type { pointerCheck } from './helpers.js';

const EINVAL = BigInt(-ERRNO.EINVAL);
const E2BIG = BigInt(-ERRNO.E2BIG);
const ERANGE = -34n;
const EFAULT = -14n;
/** sizeof(struct bpf_dynptr). */
const DYNPTR_BYTES = 16;
/** The kernel's layout keeps the size in 24 bits (DYNPTR_MAX_SIZE). */
const SIZE_MASK = 0xffffff;
/** bpf_xdp_pointer's limit on offsets and lengths. */
const XDP_POINTER_MAX = 0xffff;

const u32 = (x: bigint): number => Number(x & 0xffffffffn);

export interface DynptrEnv {
  memory: WebAssembly.Memory;
  xdp: XdpContext;
}

interface Dynptr {
  at: number;
  valid: boolean;
  size: number;
  offset: number;
}

export function dynptrFunctions(env: DynptrEnv, check: ReturnType<typeof pointerCheck>): Record<string, (...args: bigint[]) => bigint> {
  const view = (): DataView => new DataView(env.memory.buffer);
  const bytes = (): Uint8Array => new Uint8Array(env.memory.buffer);
  const load = (name: string, ptr: bigint): Dynptr => {
    const at = u32(ptr);
    check(name, 'dynptr', at, DYNPTR_BYTES);
    const v = view();
    return { at, valid: v.getUint32(at, true) === 1, size: v.getUint32(at + 8, true) & SIZE_MASK, offset: v.getUint32(at + 12, true) };
  };
  const store = (d: Dynptr): void => {
    const v = view();
    v.setUint32(d.at, d.valid ? 1 : 0, true);
    v.setUint32(d.at + 4, 0, true);
    v.setUint32(d.at + 8, d.valid ? d.size : 0, true);
    v.setUint32(d.at + 12, d.valid ? d.offset : 0, true);
  };
  /** bpf_dynptr_check_off_len. */
  const inside = (d: Dynptr, off: number, len: number): boolean => len <= d.size && off <= d.size - len;

  /** bpf_dynptr_slice (rdwr: the kernel's _rdwr has the same answers for a writable dynptr). */
  const slice = (name: string, p: bigint, offset: bigint, buffer: bigint, size: bigint): bigint => {
    const d = load(name, p);
    const len = u32(size);
    if (!d.valid || !inside(d, u32(offset), len)) return 0n;
    const xdp = env.xdp;
    const off = d.offset + u32(offset);
    const linear = xdp.dataEnd - xdp.data;
    const fits = off <= XDP_POINTER_MAX && len <= XDP_POINTER_MAX && off + len <= xdp.length;
    // Directly in the linear area (bpf_xdp_pointer). Past its end only a zero-length slice
    // of a packet without fragments is direct, at the start of the data: the kernel finds
    // no fragment, and its offset into the (absent) fragments is 0.
    if (fits && off < linear && off + len <= linear) return BigInt(xdp.data + off);
    if (fits && off >= linear && xdp.fragments.length === 0) return BigInt(xdp.data);
    const buf = u32(buffer);
    if (buf === 0) return 0n;
    check(name, 'buffer', buf, len);
    copyOut(xdp, bytes(), off, buf, len);
    return BigInt(buf);
  };

  return {
    bpf_dynptr_from_xdp: (_ctx, flags, ptr) => {
      const d: Dynptr = { at: u32(ptr), valid: flags === 0n, size: env.xdp.length, offset: 0 };
      check('bpf_dynptr_from_xdp', 'dynptr', d.at, DYNPTR_BYTES);
      store(d);
      return d.valid ? 0n : EINVAL;
    },
    bpf_dynptr_slice: (p, offset, buffer, size) => slice('bpf_dynptr_slice', p, offset, buffer, size),
    bpf_dynptr_slice_rdwr: (p, offset, buffer, size) => slice('bpf_dynptr_slice_rdwr', p, offset, buffer, size),
    bpf_dynptr_adjust: (p, start, end) => {
      const d = load('bpf_dynptr_adjust', p);
      const s = u32(start);
      const e = u32(end);
      if (!d.valid || s > e) return EINVAL;
      if (s > d.size || e > d.size) return ERANGE;
      store({ ...d, offset: d.offset + s, size: e - s });
      return 0n;
    },
    bpf_dynptr_is_null: (p) => (load('bpf_dynptr_is_null', p).valid ? 0n : 1n),
    // No XDP dynptr is read-only (the kernel's answer for a NULL one is false too).
    bpf_dynptr_is_rdonly: (p) => {
      load('bpf_dynptr_is_rdonly', p);
      return 0n;
    },
    bpf_dynptr_clone: (p, clone) => {
      const d = load('bpf_dynptr_clone', p);
      check('bpf_dynptr_clone', 'clone', u32(clone), DYNPTR_BYTES);
      store({ ...d, at: u32(clone) });
      return d.valid ? 0n : EINVAL;
    },
    // A __u32: -EINVAL as the kernel's function returns it.
    bpf_dynptr_size: (p) => {
      const d = load('bpf_dynptr_size', p);
      return d.valid ? BigInt(d.size) : EINVAL & 0xffffffffn;
    },
    dynptr_read: (dst, len, src, offset, flags) => {
      const d = load('dynptr_read', src);
      if (!d.valid || flags !== 0n) return EINVAL;
      if (!inside(d, u32(offset), u32(len))) return E2BIG;
      return xdpCopy(env.xdp, bytes(), d.offset + u32(offset), u32(dst), u32(len), 'load', (at, n) =>
        check('dynptr_read', 'buffer', at, n),
      );
    },
    dynptr_write: (dst, offset, src, len, flags) => {
      const d = load('dynptr_write', dst);
      if (!d.valid) return EINVAL;
      if (!inside(d, u32(offset), u32(len))) return E2BIG;
      if (flags !== 0n) return EINVAL;
      return xdpCopy(env.xdp, bytes(), d.offset + u32(offset), u32(src), u32(len), 'store', (at, n) =>
        check('dynptr_write', 'buffer', at, n),
      );
    },
    // The kernel gives no direct pointer into an XDP dynptr: bpf_dynptr_slice is the way.
    dynptr_data: (p) => {
      load('dynptr_data', p);
      return 0n;
    },
  };
}

/**
 * __bpf_xdp_load_bytes / __bpf_xdp_store_bytes: `len` bytes at packet offset `off`, from
 * the linear area on into the fragments; -EFAULT past bpf_xdp_pointer's limits, -EINVAL
 * beyond the packet as it is now.
 */
function xdpCopy(
  xdp: XdpContext,
  mem: Uint8Array,
  off: number,
  buf: number,
  len: number,
  dir: 'load' | 'store',
  check: (at: number, len: number) => void,
): bigint {
  if (off > XDP_POINTER_MAX || len > XDP_POINTER_MAX) return EFAULT;
  if (off + len > xdp.length) return EINVAL;
  if (len === 0) return 0n;
  check(buf, len);
  if (dir === 'load') copyOut(xdp, mem, off, buf, len);
  else copyIn(xdp, mem, off, buf, len);
  return 0n;
}

/** bpf_xdp_copy_buf into `buf`: whatever of [off, off + len) the packet has, the rest of `buf` left alone. */
function copyOut(xdp: XdpContext, mem: Uint8Array, off: number, buf: number, len: number): void {
  const linear = xdp.dataEnd - xdp.data;
  const inLinear = Math.max(0, Math.min(off + len, linear) - off);
  mem.copyWithin(buf, xdp.data + off, xdp.data + off + inLinear);
  const frags = xdp.fragments;
  const from = Math.max(off, linear) - linear;
  const to = Math.min(off + len - linear, frags.length);
  if (to > from) mem.set(frags.subarray(from, to), buf + (from + linear - off));
}

/** The other way: `buf` into the packet at [off, off + len), which the caller checked it has. */
function copyIn(xdp: XdpContext, mem: Uint8Array, off: number, buf: number, len: number): void {
  const linear = xdp.dataEnd - xdp.data;
  const inLinear = Math.max(0, Math.min(off + len, linear) - off);
  mem.copyWithin(xdp.data + off, buf, buf + inLinear);
  if (inLinear < len) xdp.fragments.set(mem.subarray(buf + inLinear, buf + len), off + inLinear - linear);
}
