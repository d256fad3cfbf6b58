// Verifying in a worker thread (verify-worker.ts) for objects large enough that it pays:
// the verifier and binaryen's loading then overlap on two cores. Small objects verify in a
// few milliseconds, less than a thread costs to start, so they stay on the main thread.

import { Worker } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import type { BpfObject } from '../core/model.js';
import type { VerifiedFacts } from '../compiler/verify-programs.js';

/** Below this many instructions in the object, verifying inline is cheaper than a thread (the environment may lower it, for tests). */
const THREAD_MIN_INSNS = Number(process.env['BPF2WASM_VERIFY_THREAD_MIN_INSNS'] ?? 2000);

export interface VerifyRequest {
  bytes: Uint8Array;
  source: string;
  programs?: string[];
  memorySafety: boolean;
}

export type VerifyReply = { facts: VerifiedFacts; ms: number } | { userError: string } | { internal: string };

export interface Verified {
  facts: VerifiedFacts;
  ms: number;
}

/** Starts verifying `obj` in a thread, or returns undefined when it is too small to be worth one. */
export function verifyInThread(obj: BpfObject, request: VerifyRequest): Promise<Verified> | undefined {
  const insns = obj.programs.reduce((n, p) => n + p.insns.length, 0);
  if (insns < THREAD_MIN_INSNS) return undefined;
  return new Promise<Verified>((resolve, reject) => {
    const worker = new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: request });
    worker.once('message', (reply: VerifyReply) => {
      if ('facts' in reply) resolve(reply);
      else if ('userError' in reply) reject(new UserError(reply.userError));
      else reject(new Error(`verifier thread: ${reply.internal}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`verifier thread exited (${code}) without an answer`)));
  });
}
