// The katran control plane's backend over a bpf2wasm instance: KatranMaps operations on
// the MapTable of a BpfMachine (shared linear memory). Inner maps are created in the same
// memory; their handle is what the outer map stores, as the kernel stores a map fd.

import { MapError } from '../../runtime/errors.js';
import type { MapTable } from '../../runtime/maps/index.js';
import type { InnerMapHandle, InnerMapSpec, KatranMaps, MapRef } from './maps.js';
import type { MapShape } from '../../core/map-types.js';

export class UserspaceKatranMaps implements KatranMaps {
  constructor(private readonly table: MapTable) {}

  get possibleCpus(): number {
    return this.table.heap.maxCpus;
  }

  private map(ref: MapRef) {
    if (typeof ref === 'string') return this.table.byNameOrThrow(ref);
    const m = this.table.get(ref.innerMap);
    if (!m) throw new MapError(`@${ref.innerMap}`, 'open', 'ENOENT', 'no inner map with this handle');
    return m;
  }

  describe(name: string): MapShape | undefined {
    const m = this.table.find(name);
    if (!m) return undefined;
    const { type, keySize, valueSize, maxEntries, flags } = m.spec;
    return { type, keySize, valueSize, maxEntries, flags };
  }

  lookup(ref: MapRef, key: Uint8Array): Uint8Array | undefined {
    return this.map(ref).lookupBytes(key);
  }

  update(ref: MapRef, key: Uint8Array, value: Uint8Array): void {
    this.map(ref).updateBytes(key, value);
  }

  updateBatch(ref: MapRef, keys: Uint8Array, values: Uint8Array, count: number): void {
    const m = this.map(ref);
    const ks = keys.length / count;
    const vs = values.length / count;
    for (let i = 0; i < count; i++) m.updateBytes(keys.subarray(i * ks, (i + 1) * ks), values.subarray(i * vs, (i + 1) * vs));
  }

  delete(ref: MapRef, key: Uint8Array): boolean {
    const m = this.map(ref);
    if (m.lookupBytes(key) === undefined) return false;
    m.deleteBytes(key);
    return true;
  }

  lookupPerCpu(name: string, key: Uint8Array): Uint8Array[] | undefined {
    const m = this.map(name);
    const all = m.lookupBytes(key);
    if (!all) return undefined;
    const stride = Math.ceil(m.spec.valueSize / 8) * 8;
    return Array.from({ length: all.length / stride }, (_, cpu) => all.slice(cpu * stride, cpu * stride + m.spec.valueSize));
  }

  createMap(spec: InnerMapSpec): InnerMapHandle {
    const { name, type, keySize, valueSize, maxEntries, flags } = spec;
    return { innerMap: this.table.createInnerMap({ name, type, keySize, valueSize, maxEntries, flags }) };
  }

  setInnerMap(outer: string, key: Uint8Array, inner: InnerMapHandle): void {
    this.map(outer).updateBytes(key, new Uint8Array(new Uint32Array([inner.innerMap]).buffer));
  }

  getInnerMap(outer: string, key: Uint8Array): InnerMapHandle | undefined {
    const v = this.map(outer).lookupBytes(key);
    return v ? { innerMap: new DataView(v.buffer, v.byteOffset).getUint32(0, true) } : undefined;
  }
}
