// Which map definitions the kernel refuses to create (EINVAL), by map type: the compiler
// refuses them ahead of time, naming the map, and the runtime again when a map is made at
// run time (inner maps, the control plane).

import { MAP_FLAG, MAP_TYPE, MAP_TYPE_NAME, type MapShape, isLru, mapTraits } from './map-types.js';

/** An LPM trie key's data bytes after its u32 prefix length: at most this many (the kernel's LPM_DATA_SIZE_MAX). */
export const LPM_DATA_MAX = 256;

/** Why the kernel would refuse to create this map (EINVAL), or undefined if it is fine. */
export function specProblem(spec: MapShape): string | undefined {
  const { type, keySize, valueSize, maxEntries, flags } = spec;
  const family = mapTraits(type)?.family;
  if (!family) return `map type ${MAP_TYPE_NAME[type] ?? type} is not supported by this runtime`;
  if (!(maxEntries > 0)) return 'max_entries must be positive';
  switch (family) {
    case 'array':
      if (keySize !== 4) return `array keys are 4 bytes, not ${keySize}`;
      if (valueSize <= 0) return 'value size must be positive';
      return undefined;
    case 'fd-array':
      if (keySize !== 4) return `keys of ${MAP_TYPE_NAME[type]} are 4 bytes, not ${keySize}`;
      if (valueSize !== 4 && !((type === MAP_TYPE.DEVMAP || type === MAP_TYPE.CPUMAP) && valueSize === 8)) {
        return `values of ${MAP_TYPE_NAME[type]} are 4 bytes, not ${valueSize}`;
      }
      if (type === MAP_TYPE.CPUMAP && flags & ~MAP_FLAG.NUMA_NODE) return 'cpumap takes no flags but BPF_F_NUMA_NODE';
      return undefined;
    case 'hash':
      if (keySize <= 0 || valueSize <= 0) return 'key and value sizes must be positive';
      if (type === MAP_TYPE.HASH_OF_MAPS && valueSize !== 4) return 'hash_of_maps values are 4-byte map handles';
      if (type === MAP_TYPE.DEVMAP_HASH && (keySize !== 4 || (valueSize !== 4 && valueSize !== 8))) {
        return 'devmap_hash keys are 4 bytes and values 4 or 8';
      }
      if (isLru(type) && flags & MAP_FLAG.NO_PREALLOC) return 'LRU maps cannot take BPF_F_NO_PREALLOC';
      return undefined;
    case 'lpm':
      if (!(flags & MAP_FLAG.NO_PREALLOC)) return 'lpm_trie maps need BPF_F_NO_PREALLOC, as in the kernel';
      if (keySize <= 4 || keySize - 4 > LPM_DATA_MAX) return `lpm_trie keys are a u32 prefix length and 1 to ${LPM_DATA_MAX} data bytes`;
      if (valueSize <= 0) return 'value size must be positive';
      return undefined;
    case 'ringbuf':
      if (keySize !== 0 || valueSize !== 0) return 'ringbuf maps have no key or value size';
      if (maxEntries & (maxEntries - 1) || maxEntries % 4096) return 'ringbuf size must be a power of two and a multiple of 4096';
      return undefined;
    case 'perf':
      if (keySize !== 4 || valueSize !== 4) return 'perf_event_array keys and values are 4 bytes';
      return undefined;
  }
}
