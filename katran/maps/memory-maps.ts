// An in-memory KatranMaps: plain JS storage with the kernel's rules (array keys in range
// and never deleted, hash maps full at max_entries, LRU maps evicting their oldest entry,
// per-CPU values). It lets the control plane be exercised and inspected without a
// runtime or a kernel. Arrays are stored sparsely (ch_rings has 33 million slots) and
// unwritten slots read as zeros, like a fresh kernel array.

import { KatranMapError } from '../errors.js';
import { type InnerMapHandle, type InnerMapSpec, type KatranMaps, type MapRef, KATRAN_MAP_SHAPES } from './maps.js';
import { type MapShape, MAP_TYPE, isOfMaps, isPerCpu, mapTraits } from '../../core/map-types.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const le32 = (b: Uint8Array, o = 0): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const toLe32 = (v: number): Uint8Array => new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);

/** Maps indexed by a u32 slot (their entries exist from creation and cannot be deleted). */
const isArrayType = (t: number): boolean => ['array', 'fd-array'].includes(mapTraits(t)?.family ?? '');
const isMapOfMaps = isOfMaps;

class MemoryMap {
  /**
   * Array index (arrays) or key hex (hash maps) -> value; per-CPU maps keep the CPUs'
   * values back to back. Insertion order doubles as LRU age.
   */
  readonly data = new Map<number | string, Uint8Array>();
  writes = 0;
  readonly copies: number;
  constructor(
    readonly name: string,
    readonly shape: MapShape,
    cpus: number,
  ) {
    this.copies = isPerCpu(shape.type) ? cpus : 1;
  }

  fail(op: string, why: string): never {
    throw new KatranMapError(this.name, op, why);
  }

  key(op: string, key: Uint8Array, offset = 0): number | string {
    if (!isArrayType(this.shape.type)) return hex(key.subarray(offset, offset + this.shape.keySize));
    const index = le32(key, offset);
    if (index >= this.shape.maxEntries) this.fail(op, `index ${index} >= max_entries ${this.shape.maxEntries}`);
    return index;
  }

  checkedKey(op: string, key: Uint8Array): number | string {
    if (key.length !== this.shape.keySize) this.fail(op, `key is ${key.length} bytes, map wants ${this.shape.keySize}`);
    return this.key(op, key);
  }

  keyBytes(k: number | string): Uint8Array {
    return typeof k === 'number' ? toLe32(k) : unhex(k);
  }

  /** All CPUs' values back to back, or undefined if absent. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    const k = this.checkedKey('lookup', key);
    const found = this.data.get(k);
    if (found) {
      if (this.shape.type === MAP_TYPE.LRU_HASH) {
        this.data.delete(k);
        this.data.set(k, found);
      }
      return found;
    }
    // Arrays hold every index; map-in-map slots without a map read as absent.
    if (isArrayType(this.shape.type) && !isMapOfMaps(this.shape.type)) return new Uint8Array(this.shape.valueSize * this.copies);
    return undefined;
  }

  /** Stores `value` (one CPU's worth, replicated to all CPUs) without copying it. */
  store(k: number | string, value: Uint8Array): void {
    if (!isArrayType(this.shape.type) && !this.data.has(k) && this.data.size >= this.shape.maxEntries) {
      if (this.shape.type !== MAP_TYPE.LRU_HASH) this.fail('update', `full (${this.shape.maxEntries} entries)`);
      this.data.delete(this.data.keys().next().value!);
    }
    this.data.delete(k);
    let stored = value;
    if (this.copies > 1) {
      stored = new Uint8Array(value.length * this.copies);
      for (let c = 0; c < this.copies; c++) stored.set(value, c * value.length);
    }
    this.data.set(k, stored);
    this.writes++;
  }

  update(key: Uint8Array, value: Uint8Array): void {
    const k = this.checkedKey('update', key);
    if (value.length !== this.shape.valueSize) {
      this.fail('update', `value is ${value.length} bytes, map wants ${this.shape.valueSize}`);
    }
    this.store(k, value.slice());
  }

  delete(key: Uint8Array): boolean {
    const k = this.checkedKey('delete', key);
    if (isArrayType(this.shape.type) && !isMapOfMaps(this.shape.type)) this.fail('delete', 'array entries cannot be deleted');
    this.writes++;
    return this.data.delete(k);
  }
}

export class MemoryMaps implements KatranMaps {
  private readonly named = new Map<string, MemoryMap>();
  private readonly inner: MemoryMap[] = [];

  constructor(
    readonly possibleCpus = 2,
    shapes: Readonly<Record<string, MapShape>> = KATRAN_MAP_SHAPES,
  ) {
    for (const [name, shape] of Object.entries(shapes)) this.named.set(name, new MemoryMap(name, shape, possibleCpus));
  }

  private get(ref: MapRef): MemoryMap {
    const map = typeof ref === 'string' ? this.named.get(ref) : this.inner[ref.innerMap];
    if (!map) throw new KatranMapError(typeof ref === 'string' ? ref : `inner#${ref.innerMap}`, 'open', 'no such map');
    return map;
  }

  describe(map: string): MapShape | undefined {
    return this.named.get(map)?.shape;
  }

  lookup(map: MapRef, key: Uint8Array): Uint8Array | undefined {
    const m = this.get(map);
    return m.lookup(key)?.slice(0, m.shape.valueSize);
  }

  update(map: MapRef, key: Uint8Array, value: Uint8Array): void {
    const m = this.get(map);
    if (isMapOfMaps(m.shape.type)) m.fail('update', 'use setInnerMap for map-in-map values');
    m.update(key, value);
  }

  updateBatch(map: MapRef, keys: Uint8Array, values: Uint8Array, count: number): void {
    const m = this.get(map);
    const { keySize, valueSize } = m.shape;
    if (keys.length !== count * keySize || values.length !== count * valueSize) {
      m.fail('updateBatch', `${count} entries need ${count * keySize} key and ${count * valueSize} value bytes`);
    }
    if (isMapOfMaps(m.shape.type)) m.fail('updateBatch', 'use setInnerMap for map-in-map values');
    // Check every key first: the kernel's batch stops at the first bad key, we refuse it whole.
    const ks = Array.from({ length: count }, (_, i) => m.key('updateBatch', keys, i * keySize));
    const copy = values.slice();
    ks.forEach((k, i) => m.store(k, copy.subarray(i * valueSize, (i + 1) * valueSize)));
  }

  delete(map: MapRef, key: Uint8Array): boolean {
    return this.get(map).delete(key);
  }

  lookupPerCpu(map: string, key: Uint8Array): Uint8Array[] | undefined {
    const m = this.get(map);
    if (!isPerCpu(m.shape.type)) m.fail('lookupPerCpu', 'not a per-CPU map');
    const all = m.lookup(key);
    const size = m.shape.valueSize;
    return all && Array.from({ length: m.copies }, (_, c) => all.slice(c * size, (c + 1) * size));
  }

  createMap(spec: InnerMapSpec): InnerMapHandle {
    this.inner.push(new MemoryMap(spec.name, spec, this.possibleCpus));
    return { innerMap: this.inner.length - 1 };
  }

  setInnerMap(outer: string, key: Uint8Array, inner: InnerMapHandle): void {
    const m = this.get(outer);
    if (!isMapOfMaps(m.shape.type)) m.fail('setInnerMap', 'not a map-in-map');
    this.get(inner); // must exist
    m.update(key, toLe32(inner.innerMap));
  }

  getInnerMap(outer: string, key: Uint8Array): InnerMapHandle | undefined {
    const value = this.get(outer).lookup(key);
    return value && { innerMap: le32(value) };
  }

  // ---- inspection, for tests and tools ----

  /** Entries explicitly written (arrays: only indexes ever updated), first CPU's value. */
  entries(map: MapRef): Array<[Uint8Array, Uint8Array]> {
    const m = this.get(map);
    return [...m.data].map(([k, v]) => [m.keyBytes(k), v.slice(0, m.shape.valueSize)]);
  }

  /** How many key writes (updates and deletes) the map has seen. */
  writeCount(map: MapRef): number {
    return this.get(map).writes;
  }

  innerShape(handle: InnerMapHandle): InnerMapSpec {
    return this.get(handle).shape as InnerMapSpec;
  }

  /** Sets one value per CPU in a per-CPU map, as the data plane's counters would. */
  setPerCpu(map: string, key: Uint8Array, values: Uint8Array[]): void {
    const m = this.get(map);
    const k = m.checkedKey('setPerCpu', key);
    if (values.length !== m.copies || values.some((v) => v.length !== m.shape.valueSize)) {
      m.fail('setPerCpu', `${m.copies} values of ${m.shape.valueSize} bytes needed`);
    }
    const all = new Uint8Array(m.copies * m.shape.valueSize);
    values.forEach((v, c) => all.set(v, c * m.shape.valueSize));
    m.data.set(k, all);
  }
}
