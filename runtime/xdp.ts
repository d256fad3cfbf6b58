// XDP packet frames in linear memory, with the kernel's geometry: 256 bytes of headroom
// before the packet, skb_shared_info-sized tailroom after the usable area, `struct xdp_md`
// holding linear-memory offsets (valid pointers in this memory model), and the kernel's
// rules for moving data, data_meta and data_end (bpf_xdp_adjust_head/meta/tail).

import { UserError } from '../core/errors.js';
import { ETH_HLEN, REDIRECT_KIND, XDP_CTX, XDP_FRAME_STRUCT, XDP_HEADROOM, XDP_META_MAX, XDP_TAILROOM } from '../core/abi.js';

export { XDP_HEADROOM, XDP_TAILROOM, XDP_FRAME_STRUCT, XDP_MD_SIZE, XDP_CTX_SIZE } from '../core/abi.js';

export const XDP_ACTION = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
export const XDP_ACTION_NAME: Record<number, string> = {
  0: 'XDP_ABORTED',
  1: 'XDP_DROP',
  2: 'XDP_PASS',
  3: 'XDP_TX',
  4: 'XDP_REDIRECT',
};

/** One page per frame, as the kernel's test run and most drivers use. */
export const XDP_FRAME_SIZE = 4096;
/** Largest packet a frame holds: what BPF_PROG_TEST_RUN accepts for XDP without frags. */
export const XDP_MAX_PACKET = XDP_FRAME_SIZE - XDP_HEADROOM - XDP_TAILROOM;
const NO_FRAGMENTS = new Uint8Array(0);
/** MAX_SKB_FRAGS: pages a multi-buffer packet may have beyond its linear area. */
export const XDP_MAX_FRAGS = 17;
/** bpf_xdp_adjust_meta's length limit (skb_shared_info's u8 meta_len); see core/abi.ts. */
const META_MAX = XDP_META_MAX;
const EINVAL = -22;
const EACCES = -13;

/** struct xdp_md field offsets. */
export const XDP_MD = { data: 0, dataEnd: 4, dataMeta: 8, ingressIfindex: 12, rxQueueIndex: 16, egressIfindex: 20 } as const;

/**
 * An XDP_REDIRECT's destination: an ifindex (bpf_redirect), a map slot (bpf_redirect_map;
 * target is the map's handle), or every device of a devmap (BPF_F_BROADCAST, without the
 * ingress device with BPF_F_EXCLUDE_INGRESS).
 */
export type XdpRedirect =
  | { kind: 'ifindex'; target: number; key?: undefined }
  | { kind: 'map'; target: number; key: number }
  | { kind: 'broadcast'; target: number; excludeIngress: boolean; key?: undefined };

/** The three context / descriptor words an XdpRedirect is kept in. */
export function redirectWords(r: XdpRedirect | undefined): [kind: number, target: number, key: number] {
  if (r === undefined) return [REDIRECT_KIND.NONE, 0, 0];
  if (r.kind === 'ifindex') return [REDIRECT_KIND.IFINDEX, r.target, 0];
  if (r.kind === 'map') return [REDIRECT_KIND.MAP, r.target, r.key];
  return [REDIRECT_KIND.BROADCAST, r.target, r.excludeIngress ? 1 : 0];
}

/** The XdpRedirect three context / descriptor words hold. */
export function redirectOfWords(kind: number, target: number, key: number): XdpRedirect | undefined {
  switch (kind) {
    case REDIRECT_KIND.IFINDEX:
      return { kind: 'ifindex', target };
    case REDIRECT_KIND.MAP:
      return { kind: 'map', target, key };
    case REDIRECT_KIND.BROADCAST:
      return { kind: 'broadcast', target, excludeIngress: key === 1 };
  }
  return undefined;
}

/**
 * One worker's view of the frame being processed: the xdp_md at `ctx` and the frame's
 * bounds. The runtime points it at a fresh frame per packet (a test-run buffer or a UMEM
 * chunk); helpers read and move the pointers through it.
 */
export class XdpContext {
  private view: DataView;
  /**
   * Bytes beyond the linear area, as the kernel's multi-buffer XDP keeps them in page
   * fragments: invisible to data/data_end, counted by xdp_get_buff_len, returned on output.
   * Valid only while the block's fragLen says so (a batch run zeroes it).
   */
  private frags: Uint8Array = NO_FRAGMENTS;

  private u8: Uint8Array;
  /** A u32 view of the same memory, made on first use and whenever the byte view is remade. */
  private u32: Uint32Array | undefined;

  constructor(
    readonly memory: WebAssembly.Memory,
    /** Address of this worker's struct xdp_md. */
    readonly ctx: number,
  ) {
    this.view = new DataView(memory.buffer);
    this.u8 = new Uint8Array(this.view.buffer);
  }

  /**
   * Views over the shared memory. Reading `memory.buffer` costs a new object per call, and
   * views made before a grow stay valid for the addresses they cover (shared memory never
   * moves), so the views are refreshed only when an address lies beyond them.
   */
  private dv(): DataView {
    return this.view;
  }

  private bytes(end: number): Uint8Array {
    if (end > this.u8.length) {
      this.view = new DataView(this.memory.buffer);
      this.u8 = new Uint8Array(this.view.buffer);
      this.u32 = undefined;
    }
    return this.u8;
  }

  private word(offset: number): number {
    return this.dv().getUint32(this.ctx + offset, true);
  }
  private setWord(offset: number, value: number): void {
    this.dv().setUint32(this.ctx + offset, value, true);
  }

  /** Start of the frame (data_hard_start), from the context block. */
  get hardStart(): number {
    return this.word(XDP_CTX.hardStart);
  }
  /** End of the usable area (hard_start + frame size - tailroom). */
  get frameEnd(): number {
    return this.word(XDP_CTX.frameEnd);
  }

  get fragments(): Uint8Array {
    return this.word(XDP_CTX.fragLen) === 0 ? NO_FRAGMENTS : this.frags;
  }
  set fragments(f: Uint8Array) {
    this.frags = f;
    this.setWord(XDP_CTX.fragLen, f.length);
  }

  /** Set by bpf_redirect / bpf_redirect_map for XDP_REDIRECT (kept in the context block). */
  get redirect(): XdpRedirect | undefined {
    return redirectOfWords(this.word(XDP_CTX.redirectKind), this.word(XDP_CTX.redirectTarget), this.word(XDP_CTX.redirectKey));
  }
  set redirect(r: XdpRedirect | undefined) {
    const [kind, target, key] = redirectWords(r);
    this.setWord(XDP_CTX.redirectKind, kind);
    this.setWord(XDP_CTX.redirectTarget, target);
    this.setWord(XDP_CTX.redirectKey, key);
  }

  /** xdp_md.egress_ifindex, which only programs run from a devmap entry see (0 otherwise). */
  set egressIfindex(ifindex: number) {
    this.setWord(XDP_MD.egressIfindex, ifindex);
  }

  /** The descriptor a batch run is at (relative to the descriptors the driver was given). */
  get batchIndex(): number {
    return this.word(XDP_CTX.batchIndex);
  }
  set batchIndex(i: number) {
    this.setWord(XDP_CTX.batchIndex, i);
  }

  /** Tail calls the current packet has taken. */
  get tailCalls(): number {
    return this.word(XDP_CTX.tailCalls);
  }
  set tailCalls(n: number) {
    this.setWord(XDP_CTX.tailCalls, n);
  }

  /** ktime_get_ns's value for the coming run(s). */
  get clockNs(): bigint {
    return this.dv().getBigUint64(this.ctx + XDP_CTX.clockNs, true);
  }
  set clockNs(ns: bigint) {
    this.dv().setBigUint64(this.ctx + XDP_CTX.clockNs, ns, true);
  }

  /** get_prandom_u32: xorshift32 over the state in the context block, as the module computes it. */
  nextRandom(): number {
    let x = this.word(XDP_CTX.prandom);
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.setWord(XDP_CTX.prandom, x);
    return x;
  }
  seedRandom(seed: number): void {
    this.setWord(XDP_CTX.prandom, seed >>> 0 || 0x9e3779b9);
  }

  get data(): number {
    return this.dv().getUint32(this.ctx + XDP_MD.data, true);
  }
  get dataEnd(): number {
    return this.dv().getUint32(this.ctx + XDP_MD.dataEnd, true);
  }
  get dataMeta(): number {
    return this.dv().getUint32(this.ctx + XDP_MD.dataMeta, true);
  }
  private setPointers(data: number, dataEnd: number, meta: number): void {
    const v = this.dv();
    v.setUint32(this.ctx + XDP_MD.data, data, true);
    v.setUint32(this.ctx + XDP_MD.dataEnd, dataEnd, true);
    v.setUint32(this.ctx + XDP_MD.dataMeta, meta, true);
  }

  /** Copy `packet` into the frame after the headroom (test run, pcap): the kernel's geometry. */
  load(frame: number, frameSize: number, packet: Uint8Array, ifindex = 1, rxQueue = 0): void {
    const maxPacket = frameSize - XDP_HEADROOM - XDP_TAILROOM;
    const total = packet.length;
    // The kernel's test run refuses these too (-EINVAL): XDP needs an Ethernet header, and a
    // multi-buffer packet has at most MAX_SKB_FRAGS pages beyond the linear area.
    if (total > maxPacket + XDP_MAX_FRAGS * XDP_FRAME_SIZE) {
      throw new UserError(
        `packet of ${total} bytes does not fit an XDP frame and its fragments (max ${maxPacket + XDP_MAX_FRAGS * XDP_FRAME_SIZE})`,
      );
    }
    const length = Math.min(total, maxPacket);
    const data = frame + XDP_HEADROOM;
    this.bytes(frame + frameSize);
    // The kernel's test run gives every packet a fresh, zeroed buffer: what an earlier packet
    // left in the headroom (bpf_xdp_adjust_head/meta expose it) must not show through.
    this.u8.fill(0, frame, data);
    this.u8.set(length === total ? packet : packet.subarray(0, length), data);
    this.loadInPlace(frame, frameSize, data, length, ifindex, rxQueue);
    // Multi-buffer: what does not fit the linear area lives on in fragments.
    if (length < total) this.fragments = packet.slice(length);
  }

  /**
   * Point the context at a packet that already sits at `data` inside the frame (a UMEM
   * chunk, or what load() copied in). The xdp_md words are written through a u32 view
   * (ctx is 64-byte aligned). `metaLength` bytes in front of the packet are its metadata
   * (data_meta = data - metaLength): a frame coming back from a devmap / cpumap queue keeps
   * what its first program reserved, as the kernel's xdp_frame keeps metasize.
   */
  loadInPlace(frame: number, frameSize: number, data: number, length: number, ifindex: number, rxQueue: number, metaLength = 0): void {
    if (length < ETH_HLEN) throw new UserError(`packet of ${length} bytes is shorter than an Ethernet header`);
    const frameEnd = frame + frameSize - XDP_TAILROOM;
    const end = Math.min(data + length, frameEnd);
    if (frameEnd > this.u8.length) this.bytes(frameEnd);
    const u32 = this.u32 ?? (this.u32 = new Uint32Array(this.u8.buffer));
    const w = this.ctx >>> 2;
    u32[w + (XDP_MD.data >>> 2)] = data;
    u32[w + (XDP_MD.dataEnd >>> 2)] = end;
    u32[w + (XDP_MD.dataMeta >>> 2)] = data - metaLength;
    u32[w + (XDP_MD.ingressIfindex >>> 2)] = ifindex;
    u32[w + (XDP_MD.rxQueueIndex >>> 2)] = rxQueue;
    u32[w + (XDP_MD.egressIfindex >>> 2)] = 0;
    u32[w + (XDP_CTX.hardStart >>> 2)] = frame;
    u32[w + (XDP_CTX.frameEnd >>> 2)] = frameEnd;
    u32[w + (XDP_CTX.fragLen >>> 2)] = 0;
    u32[w + (XDP_CTX.redirectKind >>> 2)] = REDIRECT_KIND.NONE;
    u32[w + (XDP_CTX.tailCalls >>> 2)] = 0;
  }

  /**
   * The packet as it stands now, fragments included. Without fragments this is a view of
   * the frame in shared memory, valid until the frame is reused: copy it to keep it
   * (allocating a copy per packet would cost more than running the program).
   */
  packet(): Uint8Array {
    const linear = this.bytes(this.dataEnd).subarray(this.data, this.dataEnd);
    if (this.fragments.length === 0) return linear;
    const out = new Uint8Array(linear.length + this.fragments.length);
    out.set(linear);
    out.set(this.fragments, linear.length);
    return out;
  }

  /**
   * The metadata in front of the packet (data_meta .. data, set by bpf_xdp_adjust_meta): a
   * view like packet()'s. The kernel's test run returns it before the packet; it never
   * goes on the wire.
   */
  metadata(): Uint8Array {
    return this.bytes(this.data).subarray(this.dataMeta, this.data);
  }

  /** bpf_xdp_get_buff_len: linear part plus fragments. */
  get length(): number {
    return this.dataEnd - this.data + this.fragments.length;
  }

  /** bpf_xdp_adjust_head: move data by `delta` (negative grows the packet at the front). */
  adjustHead(delta: number): number {
    const data = this.data;
    const meta = this.dataMeta;
    const metaLen = data - meta;
    const next = data + delta;
    if (next < this.hardStart + XDP_FRAME_STRUCT + metaLen || next > this.dataEnd - ETH_HLEN) return EINVAL;
    if (metaLen > 0) this.bytes(data).copyWithin(meta + delta, meta, data);
    this.setPointers(next, this.dataEnd, meta + delta);
    return 0;
  }

  /**
   * bpf_xdp_adjust_meta: move data_meta by `delta` (negative reserves metadata). As in the
   * kernel, a data_meta outside [frame + xdp_frame, data] is -EINVAL, checked before a
   * length that is misaligned or too long (-EACCES).
   */
  adjustMeta(delta: number): number {
    const data = this.data;
    const meta = this.dataMeta + delta;
    if (meta < this.hardStart + XDP_FRAME_STRUCT || meta > data) return EINVAL;
    if (data - meta > META_MAX || (data - meta) % 4 !== 0) return EACCES;
    this.setPointers(data, this.dataEnd, meta);
    return 0;
  }

  /** bpf_xdp_adjust_tail: move data_end by `delta`; growing zeroes the new bytes. */
  adjustTail(delta: number): number {
    if (this.fragments.length > 0) return this.adjustFragmentsTail(delta);
    const end = this.dataEnd;
    const next = end + delta;
    if (next > this.frameEnd || next < this.data + ETH_HLEN) return EINVAL;
    if (delta > 0) this.bytes(end + delta).fill(0, end, end + delta);
    this.setPointers(this.data, next, this.dataMeta);
    return 0;
  }

  /**
   * bpf_xdp_adjust_tail of a multi-buffer packet. The fragments are pages (as the test run
   * makes them: full but the last), so growing fills the last page's tailroom, zeroed;
   * shrinking drops fragment bytes first and, once no fragment is left, linear ones, keeping
   * an Ethernet header.
   */
  private adjustFragmentsTail(delta: number): number {
    const fragmentBytes = this.fragments.length;
    if (delta > 0) {
      const lastPage = ((fragmentBytes - 1) % XDP_FRAME_SIZE) + 1;
      if (delta > XDP_FRAME_SIZE - lastPage) return EINVAL;
      const grown = new Uint8Array(fragmentBytes + delta);
      grown.set(this.fragments);
      this.fragments = grown;
      return 0;
    }
    const shrink = -delta;
    if (shrink > this.length - ETH_HLEN) return EINVAL;
    const fromFragments = Math.min(shrink, fragmentBytes);
    this.fragments = fromFragments === fragmentBytes ? NO_FRAGMENTS : this.fragments.slice(0, fragmentBytes - fromFragments);
    if (shrink > fromFragments) this.setPointers(this.data, this.dataEnd - (shrink - fromFragments), this.dataMeta);
    return 0;
  }
}
