// The katran control plane's second backend: the same object loaded in the kernel, its
// maps driven through runtime/kernel.ts. Used to check that one configuration gives the
// same map contents (and packet outputs) in the kernel and in userspace.

import { MAP_TYPE_NAME } from '../../core/map-types.js';
import type { KernelObject } from '../../native/kernel.js';
import type { InnerMapHandle, InnerMapSpec, KatranMaps, MapRef } from './maps.js';
import type { MapShape } from '../../core/map-types.js';

const TYPE_ID: Record<string, number> = Object.fromEntries(Object.entries(MAP_TYPE_NAME).map(([id, name]) => [name, Number(id)]));

export class KernelKatranMaps implements KatranMaps {
  /** Inner maps by the number handed to the control plane. */
  private readonly inner = new Map<number, string>();
  /** What we stored where, since the kernel reports inner maps by id, not by our handle. */
  private readonly stored = new Map<string, number>();

  constructor(
    private readonly kernel: KernelObject,
    readonly possibleCpus: number,
  ) {}

  private name(ref: MapRef): string {
    if (typeof ref === 'string') return ref;
    const pin = this.inner.get(ref.innerMap);
    if (!pin) throw new Error(`no inner map #${ref.innerMap}`);
    return pin;
  }

  describe(map: string): MapShape | undefined {
    const info = this.kernel.info(map);
    if (!info) return undefined;
    return {
      type: TYPE_ID[info.type] ?? -1,
      keySize: info.bytes_key,
      valueSize: info.bytes_value,
      maxEntries: info.max_entries,
      flags: info.flags,
    };
  }

  lookup(ref: MapRef, key: Uint8Array): Uint8Array | undefined {
    return this.kernel.lookup(this.name(ref), key)?.[0];
  }

  update(ref: MapRef, key: Uint8Array, value: Uint8Array): void {
    this.kernel.update(this.name(ref), key, value);
  }

  updateBatch(ref: MapRef, keys: Uint8Array, values: Uint8Array, count: number): void {
    const ks = keys.length / count;
    const vs = values.length / count;
    const entries: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < count; i++) entries.push([keys.subarray(i * ks, (i + 1) * ks), values.subarray(i * vs, (i + 1) * vs)]);
    this.kernel.updateMany(this.name(ref), entries);
  }

  delete(ref: MapRef, key: Uint8Array): boolean {
    return this.kernel.delete(this.name(ref), key);
  }

  lookupPerCpu(map: string, key: Uint8Array): Uint8Array[] | undefined {
    return this.kernel.lookup(map, key);
  }

  createMap(spec: InnerMapSpec): InnerMapHandle {
    const pin = this.kernel.createMap(
      spec.name,
      MAP_TYPE_NAME[spec.type] ?? String(spec.type),
      spec.keySize,
      spec.valueSize,
      spec.maxEntries,
      spec.flags,
    );
    const handle = this.inner.size + 1;
    this.inner.set(handle, pin);
    return { innerMap: handle };
  }

  /** The kernel pin name of a map created here (for KernelObject.dump and friends). */
  pinOf(inner: InnerMapHandle): string {
    return this.name(inner);
  }

  setInnerMap(outer: string, key: Uint8Array, inner: InnerMapHandle): void {
    this.kernel.setInnerMap(outer, key, this.name(inner));
    this.stored.set(`${outer}/${Buffer.from(key).toString('hex')}`, inner.innerMap);
  }

  getInnerMap(outer: string, key: Uint8Array): InnerMapHandle | undefined {
    if (!this.kernel.lookup(outer, key)) return undefined;
    const stored = this.stored.get(`${outer}/${Buffer.from(key).toString('hex')}`);
    return stored === undefined ? undefined : { innerMap: stored };
  }
}
