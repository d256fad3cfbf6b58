// An in-memory KatranMaps: plain JS storage with the kernel's rules (array keys in range
// and never deleted, hash maps full at max_entries, LRU maps evicting their oldest entry,
// per-CPU values). It lets the control plane be exercised and inspected without a
// runtime or a kernel; arrays are stored sparsely (ch_rings has 33 million slots).

import { KatranMapError } from './errors.js';
import {
  type InnerMapHandle, type InnerMapSpec, type KatranMaps, type MapRef, type MapShape, KATRAN_MAP_SHAPES, MAP_TYPE,
} from './maps.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

const isArrayType = (t: number): boolean =>
  t === MAP_TYPE.ARRAY || t === MAP_TYPE.PERCPU_ARRAY || t === MAP_TYPE.ARRAY_OF_MAPS;
const isPerCpu = (t: number): boolean => t === MAP_TYPE.PERCPU_ARRAY;
const isMapOfMaps = (t: number): boolean => t === MAP_TYPE.ARRAY_OF_MAPS || t === MAP_TYPE.HASH_OF_MAPS;

class MemoryMap {
  /** key hex -> one value per CPU (a single value for ordinary maps). Insertion order = LRU age. */
  readonly data = new Map<string, Uint8Array[]>();
  writes = 0;
  constructor(readonly name: string, readonly shape: MapShape, readonly cpus: number) {}

  private fail(op: string, why: string): never {
    throw new KatranMapError(this.name, op, why);
  }

  checkKey(op: string, key: Uint8Array): string {
    if (key.length !== this.shape.keySize) this.fail(op, `key is ${key.length} bytes, map wants ${this.shape.keySize}`);
    if (isArrayType(this.shape.type)) {
      const index = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
      if (index >= this.shape.maxEntries) this.fail(op, `index ${index} >= max_entries ${this.shape.maxEntries}`);
    }
    return hex(key);
  }

  lookup(key: Uint8Array): Uint8Array[] | undefined {
    const k = this.checkKey('lookup', key);
    const found = this.data.get(k);
    if (found) {
      if (this.shape.type === MAP_TYPE.LRU_HASH) { this.data.delete(k); this.data.set(k, found); }
      return found;
    }
    // Arrays always hold every index; unset ones read as zeros (map-of-maps slots as absent).
    if (isArrayType(this.shape.type) && !isMapOfMaps(this.shape.type)) {
      return Array.from({ length: isPerCpu(this.shape.type) ? this.cpus : 1 }, () => new Uint8Array(this.shape.valueSize));
    }
    return undefined;
  }

  update(key: Uint8Array, value: Uint8Array): void {
    const k = this.checkKey('update', key);
    if (value.length !== this.shape.valueSize) {
      this.fail('update', `value is ${value.length} bytes, map wants ${this.shape.valueSize}`);
    }
    if (!isArrayType(this.shape.type) && !this.data.has(k) && this.data.size >= this.shape.maxEntries) {
      if (this.shape.type !== MAP_TYPE.LRU_HASH) this.fail('update', `full (${this.shape.maxEntries} entries)`);
      this.data.delete(this.data.keys().next().value!);
    }
    this.data.delete(k);
    const copies = isPerCpu(this.shape.type) ? this.cpus : 1;
    this.data.set(k, Array.from({ length: copies }, () => value.slice()));
    this.writes++;
  }

  delete(key: Uint8Array): boolean {
    const k = this.checkKey('delete', key);
    if (isArrayType(this.shape.type) && !isMapOfMaps(this.shape.type)) this.fail('delete', 'array entries cannot be deleted');
    this.writes++;
    return this.data.delete(k);
  }
}

export class MemoryMaps implements KatranMaps {
  private readonly named = new Map<string, MemoryMap>();
  private readonly inner: MemoryMap[] = [];

  constructor(readonly possibleCpus = 2, shapes: Readonly<Record<string, MapShape>> = KATRAN_MAP_SHAPES) {
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
    return this.get(map).lookup(key)?.[0]?.slice();
  }

  update(map: MapRef, key: Uint8Array, value: Uint8Array): void {
    const m = this.get(map);
    if (isMapOfMaps(m.shape.type)) throw new KatranMapError(m.name, 'update', 'use setInnerMap for map-in-map values');
    m.update(key, value);
  }

  updateBatch(map: MapRef, keys: Uint8Array[], values: Uint8Array[]): void {
    for (let i = 0; i < keys.length; i++) this.update(map, keys[i]!, values[i]!);
  }

  delete(map: MapRef, key: Uint8Array): boolean {
    return this.get(map).delete(key);
  }

  lookupPerCpu(map: string, key: Uint8Array): Uint8Array[] | undefined {
    const m = this.get(map);
    if (!isPerCpu(m.shape.type)) throw new KatranMapError(map, 'lookupPerCpu', 'not a per-CPU map');
    return m.lookup(key)?.map((v) => v.slice());
  }

  createMap(spec: InnerMapSpec): InnerMapHandle {
    this.inner.push(new MemoryMap(spec.name, spec, this.possibleCpus));
    return { innerMap: this.inner.length - 1 };
  }

  setInnerMap(outer: string, key: Uint8Array, inner: InnerMapHandle): void {
    const m = this.get(outer);
    if (!isMapOfMaps(m.shape.type)) throw new KatranMapError(outer, 'setInnerMap', 'not a map-in-map');
    this.get(inner); // must exist
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, inner.innerMap, true);
    m.update(key, value);
  }

  getInnerMap(outer: string, key: Uint8Array): InnerMapHandle | undefined {
    const value = this.get(outer).lookup(key)?.[0];
    return value && { innerMap: new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true) };
  }

  // ---- inspection, for tests and tools ----

  /** Entries explicitly written (arrays: only indexes ever updated), first CPU's value. */
  entries(map: MapRef): Array<[Uint8Array, Uint8Array]> {
    return [...this.get(map).data].map(([k, v]) => [unhex(k), v[0]!.slice()]);
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
    const k = m.checkKey('setPerCpu', key);
    if (values.length !== this.possibleCpus) throw new KatranMapError(map, 'setPerCpu', 'one value per CPU needed');
    m.data.set(k, values.map((v) => v.slice()));
  }
}
