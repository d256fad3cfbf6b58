// Numbers the kernel's map operations and helpers answer with, shared by the runtime's maps
// (JS) and the compiled module's own map code (wasm), which must give the same results.

/** Linux errno numbers of the errors map operations produce; helpers return them negated. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  EAGAIN: 11,
  ENOMEM: 12,
  EBUSY: 16,
  ENODEV: 19,
  EEXIST: 17,
  EACCES: 13,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
} as const;

export type ErrnoName = keyof typeof ERRNO;

/** `flags` of bpf_map_update_elem (uapi BPF_ANY, BPF_NOEXIST, BPF_EXIST). */
export const UPDATE_FLAG = { ANY: 0, NOEXIST: 1, EXIST: 2 } as const;
