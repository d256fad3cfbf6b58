// Where a map value keeps its `struct bpf_spin_lock`, from BTF: the verifier checks locking
// against it, the runtime's maps copy values around it (the kernel's copy_map_value never
// writes the lock word of a value in place, and BPF_F_LOCK updates take it).

import type { FieldLayout, TypeLayout } from './model.js';

export const SPIN_LOCK_TYPE = 'struct bpf_spin_lock';
export const SPIN_LOCK_SIZE = 4;

/** The value's bpf_spin_lock field, or undefined (none, or no BTF). */
export const spinLockFieldOf = (value: TypeLayout | undefined): FieldLayout | undefined =>
  value?.fields.find((f) => f.type === SPIN_LOCK_TYPE);
