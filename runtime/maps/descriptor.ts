// The 64-byte map descriptor: the only thing a program holds for a map (its address is
// the handle) and everything another thread needs to rebuild a view of the map. Words
// 0-9 are common; words 10-15 belong to the map family (see each family's file).
//
//   word 0  lock       spin lock of updates (0 free, 1 held)
//   word 1  magic      DESC_MAGIC once the descriptor is complete (written last)
//   word 2  type       enum bpf_map_type
//   word 3  keySize    word 4 valueSize    word 5 maxEntries    word 6 flags
//   word 7  heap       address of the heap header (memory.ts)
//   word 8  count      live entries (hash, LPM trie; 0 for arrays)
//   word 9  name       address of the name: u32 length, then UTF-8 bytes
//   words 10-15        family-specific

import type { SharedHeap } from '../memory.js';
import { DESC_MAGIC, DESC_WORD } from '../../core/map-layout.js';
import type { MapShape } from '../../core/map-types.js';
import type { TypeLayout } from '../../core/model.js';

// The layout is part of the ABI: compiled modules read descriptors too (codegen-maps.ts).
export { DESC_MAGIC };
export const D = DESC_WORD;

/** A map's shape and the name it is known by (control plane, dumps, errors). */
export interface MapSpecLike extends MapShape {
  name: string;
  /** Map-in-maps: the inner-map template (inner-template.ts). */
  inner?: MapShape;
  /** The value's BTF layout, when known: where its bpf_spin_lock is (arrays copy around it). */
  value?: TypeLayout;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes the common words (not the magic) of a descriptor and stores the name on the heap. */
export function writeHeader(heap: SharedHeap, handle: number, spec: MapSpecLike): boolean {
  const name = encoder.encode(spec.name);
  const nameAddr = heap.alloc(4 + name.length, 4);
  if (!nameAddr) return false;
  const { i32, u8 } = heap.view;
  u8.set(name, nameAddr + 4);
  i32[nameAddr >>> 2] = name.length;
  const w = handle >>> 2;
  i32.fill(0, w, w + 16);
  i32[w + D.TYPE] = spec.type;
  i32[w + D.KEY] = spec.keySize;
  i32[w + D.VALUE] = spec.valueSize;
  i32[w + D.MAX] = spec.maxEntries;
  i32[w + D.FLAGS] = spec.flags;
  i32[w + D.HEAP] = heap.header;
  i32[w + D.NAME] = nameAddr;
  return true;
}

/** Marks the descriptor complete: a thread that sees the magic sees every word before it. */
export function publish(i32: Int32Array, handle: number): void {
  Atomics.store(i32, (handle >>> 2) + D.MAGIC, DESC_MAGIC);
}

export function isPublished(i32: Int32Array, handle: number): boolean {
  return handle > 0 && handle % 4 === 0 && (handle >>> 2) + 16 <= i32.length && Atomics.load(i32, (handle >>> 2) + D.MAGIC) === DESC_MAGIC;
}

export function readSpec(i32: Int32Array, u8: Uint8Array, handle: number): MapSpecLike {
  const w = handle >>> 2;
  const nameAddr = i32[w + D.NAME]! >>> 0;
  const len = i32[nameAddr >>> 2]!;
  return {
    type: i32[w + D.TYPE]!,
    keySize: i32[w + D.KEY]!,
    valueSize: i32[w + D.VALUE]!,
    maxEntries: i32[w + D.MAX]! >>> 0,
    flags: i32[w + D.FLAGS]! >>> 0,
    name: decoder.decode(u8.slice(nameAddr + 4, nameAddr + 4 + len)),
  };
}
