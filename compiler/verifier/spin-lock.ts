// bpf_spin_lock / bpf_spin_unlock: the kernel's rules (process_spin_lock, and the checks
// do_check makes while a lock is held). A lock is a `struct bpf_spin_lock` field of a map
// value, found through the map's BTF; a program holds at most one, calls no helper but
// bpf_spin_unlock while holding it (subprograms may be called), releases it before the
// main program exits, and never reads or writes the lock word itself. The held lock is
// kept in the state's references (tagged with its map), so that states are only pruned
// against states holding the same lock, as the kernel compares active_lock.

import { HELPER_ID } from '../../core/helper-ids.js';
import { spinLockFieldOf } from '../../core/spin-lock.js';
import type { Insn } from '../../core/isa.js';
import type { FieldLayout, MapSpec } from '../../core/model.js';
import { reject } from './problem.js';
import { T, TYPE_NAME, type Reg } from './reg.js';
import { isConst } from './scalar.js';
import type { Env } from './env.js';
import type { State } from './state.js';

/** The value's bpf_spin_lock field, from BTF (undefined: none, or no BTF). */
export function spinLockField(map: MapSpec | undefined): FieldLayout | undefined {
  return spinLockFieldOf(map?.value);
}

/** The held lock, if any (a reference tagged with its map). */
const heldLock = (st: State) => st.refs.find((r) => r.lock !== undefined);

/**
 * Before any helper call: with a lock held, only bpf_spin_unlock may be called (the kernel
 * checks this before the call's arguments).
 */
export function checkCallWhileLocked(st: State, insn: Insn): void {
  if (heldLock(st) && insn.imm !== HELPER_ID.spin_unlock) reject(insn, 'function calls are not allowed while holding a lock');
}

/** bpf_spin_lock (lock = true) or bpf_spin_unlock on the map value in r1. */
export function spinLockCall(env: Env, st: State, insn: Insn, lock: boolean): void {
  const reg = st.cur.regs[1]!;
  if (reg.type !== T.MAP_VALUE) reject(insn, `R1 type=${TYPE_NAME[reg.type]} expected=map_value, ptr_`);
  if (!isConst(reg.s)) reject(insn, "R1 doesn't have constant offset. bpf_spin_lock has to be at the constant offset");
  env.precise([1]);
  const map = reg.map!;
  if (!map.value) reject(insn, `map '${map.name}' has to have BTF in order to use bpf_spin_lock`);
  const field = spinLockField(map);
  if (!field) reject(insn, `map '${map.name}' has no valid bpf_spin_lock`);
  const off = reg.off + Number(BigInt.asIntN(64, reg.s.t.value));
  if (off !== field.offset) reject(insn, `off ${off} doesn't point to 'struct bpf_spin_lock' that is at ${field.offset}`);
  const held = heldLock(st);
  if (lock) {
    if (held) reject(insn, 'Locking two bpf_spin_locks are not allowed');
    st.refs = [...st.refs, { id: reg.id, insn: insn.pc, lock: map.name }];
    return;
  }
  if (!held) reject(insn, 'bpf_spin_unlock without taking a lock');
  if (held.lock !== map.name || held.id !== reg.id) reject(insn, 'bpf_spin_unlock of different lock');
  st.refs = st.refs.filter((r) => r !== held);
}

/** At the main program's exit, no lock may be held. */
export function checkExitWhileLocked(st: State, insn: Insn): void {
  if (heldLock(st)) reject(insn, 'BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region');
}

/** Loads and stores may not touch the lock word (check_map_access's special fields). */
export function checkLockFieldAccess(insn: Insn, reg: Reg, off: number, size: number): void {
  const field = spinLockField(reg.map);
  if (!field) return;
  const lo = reg.off + off + Number(reg.s.smin);
  const hi = reg.off + off + Number(reg.s.smax) + size;
  if (lo < field.offset + field.size && hi > field.offset) reject(insn, 'bpf_spin_lock cannot be accessed directly by load/store');
}

/**
 * Map values that may hold a lock keep an id, so that the verifier can tell one value's
 * lock from another's: a non-NULL lookup result gets a fresh one, and a NULL check keeps it.
 */
export function lockValueId(env: Env, reg: Reg): Reg {
  return reg.type === T.MAP_VALUE && reg.id === 0 && spinLockField(reg.map) ? { ...reg, id: env.newId() } : reg;
}

export const keepsLockId = (r: Reg): boolean => spinLockField(r.map) !== undefined;
