// The inner-map template of a map-in-map (ARRAY_OF_MAPS, HASH_OF_MAPS): the shape the
// object declared with `__array(values, ...)`, kept on the heap next to the outer map so
// that any thread can check what goes into a slot. Compiled code looks inner maps up
// assuming that shape, so, as the kernel does (bpf_map_meta_equal), a slot takes only a
// map of the same type, key size, value size and flags, and, for arrays, the same
// max_entries unless the template has BPF_F_INNER_MAP (whose lookups check the inner
// map's own bound). Other types may differ in max_entries, as in the kernel since 5.10.

import { INNER_TEMPLATE_WORDS } from '../../core/map-layout.js';
import { MAP_FLAG, MAP_TYPE, MAP_TYPE_NAME, type MapShape } from '../../core/map-types.js';
import type { SharedHeap } from '../memory.js';
import { D } from './descriptor.js';

/** Stores `inner` on the heap; its address (0 when the heap is full). */
export function writeInnerTemplate(heap: SharedHeap, inner: MapShape): number {
  const at = heap.alloc(INNER_TEMPLATE_WORDS * 4, 4);
  if (!at) return 0;
  heap.view.i32.set([inner.type, inner.keySize, inner.valueSize, inner.maxEntries, inner.flags], at >>> 2);
  return at;
}

export function readInnerTemplate(i32: Int32Array, at: number): MapShape {
  const w = at >>> 2;
  return { type: i32[w]!, keySize: i32[w + 1]!, valueSize: i32[w + 2]!, maxEntries: i32[w + 3]! >>> 0, flags: i32[w + 4]! >>> 0 };
}

const typeName = (t: number): string => MAP_TYPE_NAME[t] ?? `type ${t}`;
const hexFlags = (f: number): string => `0x${f.toString(16)}`;

/**
 * Why the map at `handle` (a published descriptor) may not go into a slot of a map-in-map
 * with template `template`, or undefined when it may.
 */
export function innerMapMismatch(i32: Int32Array, template: MapShape, handle: number): string | undefined {
  const w = handle >>> 2;
  const inner: MapShape = {
    type: i32[w + D.TYPE]!,
    keySize: i32[w + D.KEY]!,
    valueSize: i32[w + D.VALUE]!,
    maxEntries: i32[w + D.MAX]! >>> 0,
    flags: i32[w + D.FLAGS]! >>> 0,
  };
  const differences: string[] = [];
  if (inner.type !== template.type) differences.push(`type ${typeName(inner.type)}, not ${typeName(template.type)}`);
  if (inner.keySize !== template.keySize) differences.push(`key size ${inner.keySize}, not ${template.keySize}`);
  if (inner.valueSize !== template.valueSize) differences.push(`value size ${inner.valueSize}, not ${template.valueSize}`);
  if (inner.flags !== template.flags) differences.push(`flags ${hexFlags(inner.flags)}, not ${hexFlags(template.flags)}`);
  const arrayBound =
    (template.type === MAP_TYPE.ARRAY || template.type === MAP_TYPE.PERCPU_ARRAY) && !(template.flags & MAP_FLAG.INNER_MAP);
  if (arrayBound && inner.maxEntries !== template.maxEntries)
    differences.push(`max_entries ${inner.maxEntries}, not ${template.maxEntries}`);
  return differences.length ? `the inner map does not match the template: ${differences.join('; ')}` : undefined;
}
