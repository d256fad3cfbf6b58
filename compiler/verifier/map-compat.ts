// The other half of check_map_func_compatibility: map types that only some helpers may be
// given (the helper side, a helper that takes only some map types, is Proto.mapTypes).

import { HELPER_ID } from '../../core/helper-ids.js';
import type { Insn } from '../../core/isa.js';
import { MAP_TYPE } from '../../core/map-types.js';
import type { MapSpec } from '../../core/model.js';
import { reject } from './problem.js';

const ONLY_WITH: ReadonlyMap<number, readonly number[]> = new Map([
  [MAP_TYPE.PERF_EVENT_ARRAY, [HELPER_ID.perf_event_output]],
  // A cpumap serves only redirects (programs cannot look it up).
  [MAP_TYPE.CPUMAP, [HELPER_ID.redirect_map]],
  // Devmaps and xskmaps are only redirected to and looked up.
  [MAP_TYPE.DEVMAP, [HELPER_ID.redirect_map, HELPER_ID.map_lookup_elem]],
  [MAP_TYPE.DEVMAP_HASH, [HELPER_ID.redirect_map, HELPER_ID.map_lookup_elem]],
  [MAP_TYPE.XSKMAP, [HELPER_ID.redirect_map, HELPER_ID.map_lookup_elem]],
]);

/** Devmaps are created BPF_F_RDONLY_PROG (their lookup points at the entry's ifindex): no helper writes them. */
const PROGRAM_READ_ONLY: ReadonlySet<number> = new Set([MAP_TYPE.DEVMAP, MAP_TYPE.DEVMAP_HASH]);
const WRITERS: ReadonlySet<number> = new Set([HELPER_ID.map_update_elem, HELPER_ID.map_delete_elem]);

/** Refuses `map` as an argument of helper `insn.imm` when its type is reserved to other helpers. */
export function checkMapForHelper(insn: Insn, map: MapSpec, name: string): void {
  if (PROGRAM_READ_ONLY.has(map.type) && WRITERS.has(insn.imm)) reject(insn, 'write into map forbidden');
  const allowed = ONLY_WITH.get(map.type);
  if (allowed && !allowed.includes(insn.imm)) reject(insn, `cannot pass map_type ${map.type} into func bpf_${name}#${insn.imm}`);
}
