// bpf_spin_lock / bpf_spin_unlock: a real lock on the 4-byte `struct bpf_spin_lock` word of
// a map value in the shared memory, so that workers (threads) exclude each other as the
// kernel's CPUs do. The word holds its owner's token (lockOwnerOfCpu, as the map locks) while
// held, 0 when free. The verifier lets a program hold one lock at a time and no helper
// call while it does, so each worker remembers the one it holds: a packet whose run faults
// with the lock held has it released (machine.ts), as the map locks are.

import { FAULT } from '../core/abi.js';
import { lockOwnerOfCpu, LOCK_SPIN_LIMIT } from '../core/map-layout.js';
import { BpfFault } from './fault.js';

/** The lock a worker holds (its address, 0 for none). */
export interface HeldSpinLock {
  address: number;
}

export function spinLockHelpers(
  memory: WebAssembly.Memory,
  cpu: number,
  held: HeldSpinLock,
  check: (helper: string, what: string, at: number, len: number) => void,
): { spin_lock: (lock: bigint) => bigint; spin_unlock: (lock: bigint) => bigint } {
  const owner = lockOwnerOfCpu(cpu);
  const wordOf = (helper: string, lock: bigint): number => {
    const at = Number(lock & 0xffffffffn);
    check(helper, 'lock', at, 4);
    if (at & 3) throw new BpfFault(FAULT.BAD_POINTER, -1, `${helper}: lock at 0x${at.toString(16)} is not 4-byte aligned`);
    return at;
  };
  return {
    spin_lock: (lock) => {
      const at = wordOf('spin_lock', lock);
      const i32 = new Int32Array(memory.buffer);
      for (let i = 0; Atomics.compareExchange(i32, at >>> 2, 0, owner) !== 0; i++) {
        // The kernel spins for ever; a holder that died (or this worker itself, in a program
        // the verifier did not check) would hang the worker, so the packet faults instead.
        if (i === LOCK_SPIN_LIMIT) throw new BpfFault(FAULT.BUDGET, -1, `bpf_spin_lock at 0x${at.toString(16)} stays held`);
      }
      held.address = at;
      return 0n;
    },
    spin_unlock: (lock) => {
      const at = wordOf('spin_unlock', lock);
      Atomics.store(new Int32Array(memory.buffer), at >>> 2, 0);
      if (held.address === at) held.address = 0;
      return 0n;
    },
  };
}

/** Frees the lock `held` names if this worker still owns it (after a fault); 1 if it did. */
export function releaseSpinLock(memory: WebAssembly.Memory, cpu: number, held: HeldSpinLock): number {
  const at = held.address;
  if (at === 0) return 0;
  held.address = 0;
  const owner = lockOwnerOfCpu(cpu);
  return Atomics.compareExchange(new Int32Array(memory.buffer), at >>> 2, owner, 0) === owner ? 1 : 0;
}
