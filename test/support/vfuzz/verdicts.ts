// The two verdicts on one object file: bpf2wasm's memory-safety model (every program of the
// object verified with memorySafety: true) and the kernel's (libbpf loads every program of
// the object as XDP). Both see the same bytes, so a difference is a difference of verifiers.

import { performance } from 'node:perf_hooks';
import { loadObject } from '../../../compiler/object.js';
import { verify } from '../../../compiler/verifier/index.js';
import { UserError, VerifyError } from '../../../core/errors.js';
import { KernelObject } from '../../../native/kernel.js';

export interface Verdict {
  accepted: boolean;
  /** Why not (the first error), when refused. */
  reason?: string;
  /** Instructions our walk processed (ours only, when it completes). */
  processed?: number;
  /** Ours only: the walk gave up at its instruction budget, so there is no verdict. */
  overBudget?: boolean;
  ms: number;
}

/**
 * Ours: the object as compiler/object.ts loads it, each program verified in turn, each walk
 * given up after `maxProcessed` instructions (the kernel's 1M when not given).
 */
export function ourVerdict(bytes: Uint8Array, label: string, maxProcessed?: number): Verdict {
  const start = performance.now();
  const done = (v: Omit<Verdict, 'ms'>): Verdict => ({ ...v, ms: performance.now() - start });
  let processed = 0;
  try {
    const object = loadObject(bytes, label);
    for (const program of object.programs) processed += verify(program, object.maps, { memorySafety: true, maxProcessed }).processed ?? 0;
  } catch (e) {
    // VerifyError is the verdict; any other UserError (the object no longer links) is a refusal too.
    const overBudget = maxProcessed !== undefined && e instanceof VerifyError && e.message.includes('BPF program is too large');
    if (e instanceof VerifyError || e instanceof UserError) return done({ accepted: false, reason: e.message, overBudget });
    throw e;
  }
  return done({ accepted: true, processed });
}

/** The kernel's: load through libbpf (native/kernel.ts), the error's last log lines when refused. */
export function kernelVerdict(path: string): Verdict {
  const start = performance.now();
  try {
    KernelObject.load(path).close();
    return { accepted: true, ms: performance.now() - start };
  } catch (e) {
    return { accepted: false, reason: (e as Error).message, ms: performance.now() - start };
  }
}
