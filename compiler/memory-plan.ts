// Compile-time placement of maps in linear memory: descriptors first, then the storage
// of array-like maps (so codegen can turn their lookups into address arithmetic), then
// the heap the runtime allocates from. The result is recorded in the manifest.

import {
  DEFAULT_MAX_CPUS,
  MAP_DESC_BASE,
  MAP_DESC_COUNT,
  MAP_DESC_SIZE,
  MAX_PAGES,
  NULL_PAGE,
  WASM_PAGE,
  align,
  type MapPlacement,
  type MemoryLayout,
} from '../core/abi.js';
import { MAP_TYPE, isArrayLike } from '../core/map-types.js';
import type { MapSpec } from '../core/model.js';
import { UserError } from '../core/errors.js';

/** Decide the static layout: descriptors, then array storage, then the heap. */
export function planMemory(
  maps: readonly MapSpec[],
  maxCpus = DEFAULT_MAX_CPUS,
): {
  layout: MemoryLayout;
  placements: MapPlacement[];
} {
  if (maps.length > MAP_DESC_COUNT) throw new UserError(`too many maps: ${maps.length} > ${MAP_DESC_COUNT}`);
  let cursor = MAP_DESC_BASE + MAP_DESC_SIZE * MAP_DESC_COUNT;
  const placements = maps.map((m, index): MapPlacement => {
    const handle = MAP_DESC_BASE + index * MAP_DESC_SIZE;
    if (!isArrayLike(m.type)) return { handle };
    const valueStride = align(Math.max(m.valueSize, 1), 8);
    const cpus = m.type === MAP_TYPE.PERCPU_ARRAY ? maxCpus : 1;
    const cpuStride = valueStride * m.maxEntries;
    cursor = align(cursor, 64);
    const storage = cursor;
    cursor += cpuStride * cpus;
    if (cursor > 2 ** 32 - 2 ** 28)
      throw new UserError(`map ${m.name}: ${m.maxEntries} entries of ${m.valueSize} bytes do not fit in 4 GiB of linear memory`);
    return { handle, storage, valueStride, cpuStride };
  });
  const heapBase = align(cursor, WASM_PAGE);
  return {
    layout: {
      nullPage: NULL_PAGE,
      descBase: MAP_DESC_BASE,
      descSize: MAP_DESC_SIZE,
      descCount: MAP_DESC_COUNT,
      maxCpus,
      heapBase,
      initialPages: heapBase / WASM_PAGE + 16,
      maxPages: MAX_PAGES,
    },
    placements,
  };
}
