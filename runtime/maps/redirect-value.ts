// The values of redirect maps that may carry a second program: `struct bpf_devmap_val`
// {u32 ifindex; union {int fd; u32 id} bpf_prog} and `struct bpf_cpumap_val` {u32 qsize;
// union {int fd; u32 id} bpf_prog}. The control plane writes a program's "fd", the kernel
// keeps and reports its id; here both are the program's id, its index in the module's
// function table plus one (so 0, like the kernel's fd 0 and id 0, names no program). The
// kernel takes only programs loaded for that map kind (expected_attach_type
// BPF_XDP_DEVMAP / BPF_XDP_CPUMAP: libbpf's `xdp/devmap` and `xdp/cpumap` sections).

import { ERRNO } from '../../core/errno.js';
import { MAP_TYPE } from '../../core/map-types.js';

export type RedirectProgramKind = 'devmap' | 'cpumap';

/** The attach kind of a program in section `section`, if it is one a redirect map takes. */
export function redirectProgramKind(section: string): RedirectProgramKind | undefined {
  const m = /^xdp(?:\.frags)?\/(devmap|cpumap)(?:$|\/)/.exec(section);
  return m ? (m[1] as RedirectProgramKind) : undefined;
}

/** The id a map value uses for the program at `tableIndex` of the module's table. */
export const programIdOf = (tableIndex: number): number => tableIndex + 1;
/** The table index of program `id` (a value's bpf_prog word); -1 for none. */
export const tableIndexOfId = (id: number): number => id - 1;

/**
 * Whether a network device has ifindex `ifindex` in the process's network namespace (the
 * kernel's devmap update takes only existing devices: dev_get_by_index, else -EINVAL).
 * The runtime cannot ask the host itself; whoever runs it gives the question (the native
 * addon's RTM_GETLINK: native/devices.ts). Unset, every ifindex is taken.
 */
export type DeviceExists = (ifindex: number) => boolean;
let deviceExists: DeviceExists | undefined;

/** Sets (or, with undefined, clears) the process's device check for devmap updates. */
export function setDeviceExists(check: DeviceExists | undefined): void {
  deviceExists = check;
}

/**
 * __dev_map_alloc_node's device check for a devmap / devmap_hash value naming `ifindex`
 * (not 0): undefined when taken, else the refusal's words (the kernel's errno is EINVAL).
 */
export function missingDevice(ifindex: number): string | undefined {
  return deviceExists && !deviceExists(ifindex) ? `no network device has ifindex ${ifindex} here` : undefined;
}

/** Per memory (one loaded object), the ids of programs each redirect map kind takes. */
const attachable = new WeakMap<WebAssembly.Memory, Map<number, RedirectProgramKind>>();

/** Registers the module's programs (main thread, where the control plane updates maps). */
export function registerRedirectPrograms(memory: WebAssembly.Memory, programs: readonly { section: string; tableIndex: number }[]): void {
  const ids = new Map<number, RedirectProgramKind>();
  for (const p of programs) {
    const kind = redirectProgramKind(p.section);
    if (kind) ids.set(programIdOf(p.tableIndex), kind);
  }
  attachable.set(memory, ids);
}

/**
 * Checks and normalises an 8-byte devmap / devmap_hash / cpumap value in place, as the
 * kernel's update does: a bpf_prog fd <= 0 is "no program" (reported as id 0); a positive
 * one must be a program of the map's kind, else the kernel refuses (devmaps -EINVAL, cpumap
 * -ENOMEM: its entry allocation fails). Returns 0 or the negative errno.
 */
export function checkProgramWord(memory: WebAssembly.Memory, dv: DataView, valueAddr: number, mapType: number): number {
  const fd = dv.getInt32(valueAddr + 4, true);
  if (fd <= 0) {
    dv.setUint32(valueAddr + 4, 0, true);
    return 0;
  }
  const want: RedirectProgramKind = mapType === MAP_TYPE.CPUMAP ? 'cpumap' : 'devmap';
  if (attachable.get(memory)?.get(fd) === want) return 0;
  return mapType === MAP_TYPE.CPUMAP ? -ERRNO.ENOMEM : -ERRNO.EINVAL;
}
