// Puts the bench's packets into their frames the way the peers' C harness does (memcpy),
// not through TypedArray.prototype.set: V8 copies into a SharedArrayBuffer with relaxed
// atomic word moves behind a builtin call, about 25 ns for a 64-byte packet here against
// about 1 ns for C's memcpy, a cost of the bench's packet source that neither the live
// datapath (the kernel fills the UMEM frames) nor the peers pay. The packets are kept in
// linear memory; per batch the bench writes (dst, src, len) triples into a table there and
// one call of a small wasm function over the same shared memory does every copy, as C's
// memcpy would, in 64-byte SIMD steps.

/**
 * `copy(table, count)`: for each of `count` 12-byte (dst, src, len) entries at `table`,
 * copies len bytes from src to dst in 64-byte steps of four 16-byte SIMD moves, as a C
 * memcpy does with vector registers (up to 63 bytes past the packet: the frame's tailroom,
 * and the padding the constructor leaves after each packet; a word-at-a-time loop took
 * ~35 ns for a 600-byte packet). Not memory.copy: on a shared memory V8 makes memory.copy
 * a call into C, ~10 ns a packet. Over an imported shared memory, min 1 page, max 65536
 * (any wasm32 memory fits). Hand-assembled: checked by WebAssembly.validate at load.
 */
const v128Move = (offset: number): number[] => [0x20, 0x02, 0x20, 0x03, 0xfd, 0x00, 0x00, offset, 0xfd, 0x0b, 0x00, offset]; // *(dst + offset) = *(src + offset) (v128)
const COPIER = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  ...[0x01, 0x06, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00], // types: (i32 i32) -> ()
  ...[0x02, 0x12, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x03, 0x01, 0x80, 0x80, 0x04], // env.memory
  ...[0x03, 0x02, 0x01, 0x00], // functions: one of type 0
  ...[0x07, 0x08, 0x01, 0x04, 0x63, 0x6f, 0x70, 0x79, 0x00, 0x00], // exports: "copy"
  ...[0x0a, 0x7f, 0x01, 0x7d], // code: one body of 125 bytes
  ...[0x01, 0x03, 0x7f], // locals 2-4: dst, src, end (i32)
  ...[0x02, 0x40, 0x03, 0x40], // block, loop (per entry)
  ...[0x20, 0x01, 0x45, 0x0d, 0x01], // count == 0: out
  ...[0x20, 0x00, 0x28, 0x02, 0x00, 0x21, 0x02], // dst = table[0]
  ...[0x20, 0x00, 0x28, 0x02, 0x04, 0x22, 0x03, 0x20, 0x00, 0x28, 0x02, 0x08, 0x6a, 0x21, 0x04], // src = table[1]; end = src + table[2]
  ...[0x03, 0x40], // loop (per 64 bytes)
  ...v128Move(0),
  ...v128Move(16),
  ...v128Move(32),
  ...v128Move(48),
  ...[0x20, 0x02, 0x41, 0xc0, 0x00, 0x6a, 0x21, 0x02], // dst += 64
  ...[0x20, 0x03, 0x41, 0xc0, 0x00, 0x6a, 0x22, 0x03, 0x20, 0x04, 0x49, 0x0d, 0x00, 0x0b], // src += 64; again while src < end
  ...[0x20, 0x00, 0x41, 0x0c, 0x6a, 0x21, 0x00], // table += 12
  ...[0x20, 0x01, 0x41, 0x01, 0x6b, 0x21, 0x01], // count -= 1
  ...[0x0c, 0x00, 0x0b, 0x0b, 0x0b], // next entry; end loop, block, function
]);

/** Packets kept in linear memory, copied into frames a batch at a time. */
export class FrameCopier {
  private readonly at: Uint32Array;
  private readonly lengths: Uint32Array;
  private readonly words: Int32Array;
  private readonly copyAll: (table: number, count: number) => void;

  /**
   * `source` has packetBytes(packets) bytes of linear memory for the packets, `table`
   * 12 × the batch size for the copies.
   */
  constructor(
    memory: WebAssembly.Memory,
    source: number,
    private readonly table: number,
    packets: readonly Uint8Array[],
  ) {
    if (!WebAssembly.validate(COPIER)) throw new Error('frame-copier: the hand-assembled module does not validate');
    const instance = new WebAssembly.Instance(new WebAssembly.Module(COPIER), { env: { memory } });
    this.copyAll = instance.exports['copy'] as (table: number, count: number) => void;
    const bytes = new Uint8Array(memory.buffer);
    this.words = new Int32Array(memory.buffer);
    this.at = new Uint32Array(packets.length);
    this.lengths = new Uint32Array(packets.length);
    let next = source;
    packets.forEach((p, i) => {
      bytes.set(p, next);
      this.at[i] = next;
      this.lengths[i] = p.length;
      next += padded(p.length);
    });
  }

  get count(): number {
    return this.at.length;
  }

  length(packet: number): number {
    return this.lengths[packet]!;
  }

  /** Entry `i` of the next copy: packet `packet` to `dst`. */
  queue(i: number, packet: number, dst: number): void {
    const w = (this.table >>> 2) + i * 3;
    this.words[w] = dst;
    this.words[w + 1] = this.at[packet]!;
    this.words[w + 2] = this.lengths[packet]!;
  }

  /** Does the first `count` queued copies. */
  copy(count: number): void {
    this.copyAll(this.table, count);
  }
}

/** A packet's bytes in the source area: whole 64-byte steps, so a copy's last step reads only the area. */
const padded = (length: number): number => (length + 63) & ~63;

/** Bytes of linear memory FrameCopier needs for `packets`. */
export const packetBytes = (packets: readonly Uint8Array[]): number => packets.reduce((n, p) => n + padded(p.length), 0);
