// Shared set-up for the map tests: a fresh shared memory laid out by planMemory for some
// map specs, the maps created in it, and little byte helpers. Not a test file itself.

import type { ManifestMap } from '../../core/manifest.js';
import { planMemory } from '../../compiler/memory-plan.js';
import { MAP_TYPE_NAME } from '../../core/map-types.js';
import type { MapSpec } from '../../core/model.js';
import { type AnyMap, createMaps, type MapTable } from '../../runtime/maps/index.js';
import { createMemory } from '../../runtime/program.js';

export type Spec = Pick<MapSpec, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries'> & { flags?: number };

export interface Fixture {
  memory: WebAssembly.Memory;
  table: MapTable;
  manifest: ManifestMap[];
  layout: ReturnType<typeof planMemory>['layout'];
  map(name: string): AnyMap;
  /** Writes bytes to a fresh test area in linear memory and returns the address. */
  put(bytes: Uint8Array): number;
  /** `n` zero bytes in the test area. */
  room(n: number): number;
  read(addr: number, n: number): Uint8Array;
}

/**
 * `extraPages`: how many pages the memory may grow past its initial size (the plan's
 * maximum when absent), for tests that make the shared heap run out.
 */
export function fixture(specs: Spec[], maxCpus = 4, { extraPages }: { extraPages?: number } = {}): Fixture {
  const full: MapSpec[] = specs.map((s) => ({ flags: 0, section: '.maps', ...s }));
  const plan = planMemory(full, maxCpus);
  const placements = plan.placements;
  const layout = extraPages === undefined ? plan.layout : { ...plan.layout, maxPages: plan.layout.initialPages + extraPages };
  const manifest: ManifestMap[] = full.map((m, i) => ({
    name: m.name,
    type: m.type,
    typeName: MAP_TYPE_NAME[m.type] ?? '?',
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    section: m.section,
    placement: placements[i]!,
  }));
  const memory = createMemory(layout);
  const table = createMaps(memory, manifest, layout);
  const area = table.heap.alloc(1 << 16, 64);
  let cursor = area;
  const room = (n: number): number => {
    const at = cursor;
    cursor += (n + 7) & ~7;
    if (cursor > area + (1 << 16)) throw new Error('test area exhausted');
    return at;
  };
  const u8 = (): Uint8Array => new Uint8Array(memory.buffer);
  return {
    memory,
    table,
    manifest,
    layout,
    map: (name) => table.byNameOrThrow(name),
    room,
    put: (bytes) => {
      const at = room(bytes.length);
      u8().set(bytes, at);
      return at;
    },
    read: (addr, n) => u8().slice(addr, addr + n),
  };
}

export const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n >>> 0]).buffer);
export const u64 = (n: bigint): Uint8Array => new Uint8Array(new BigUint64Array([n]).buffer);
export const hex = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString('hex') : 'absent');
export const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs);
export const readU32 = (b: Uint8Array, off = 0): number => new DataView(b.buffer, b.byteOffset).getUint32(off, true);
export const readU64 = (b: Uint8Array, off = 0): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);

/** Expects `fn` to throw a MapError with this errno; returns its message. */
export function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    const err = e as { name?: string; errno?: string; message: string };
    if (err.name !== 'MapError') throw e;
    return err.errno!;
  }
  return 'no error';
}
