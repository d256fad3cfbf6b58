// Code generation in a worker thread (codegen-worker.ts) for objects large enough that it
// pays: the thread starts at once and loads binaryen and wabt while this thread verifies
// the programs; it then generates and validates the module from the verifier's facts. So
// the thread's own start-up (a Node environment, the compiler's modules) overlaps the
// verifier instead of coming before it, as it did when the verifier was the thread's work.
// Small objects verify in a few milliseconds, less than a thread costs to start, so they
// compile on the main thread.
//
// Off by default: on this project's 2-core machine the thread did not pay for katran,
// quiet (1.07-1.33 s without, 1.19-1.43 s with) or loaded (its start-up and second module
// graph cost ~0.15 s of CPU that the verifier then lacks), and since the main thread loads
// binaryen early, its wasm compiled on V8's background threads (compiler/v8-flags.ts), the
// thread has less left to overlap (bench/README.md, "Session 7").
// BPF2WASM_THREAD_MIN_INSNS=2000 turns it on for objects of 2,000 instructions and more.

import { Worker } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import type { BpfObject } from '../core/model.js';
import type { CompileOptions, CompileResult } from '../compiler/compile.js';
import type { VerifiedFacts } from '../compiler/verify-programs.js';

/** Objects of this many instructions and more get the thread; by default none (above), the environment sets it (tests, machines with more cores). */
const THREAD_MIN_INSNS = Number(process.env['BPF2WASM_THREAD_MIN_INSNS'] ?? Infinity);

export interface CodegenRequest {
  bytes: Uint8Array;
  source: string;
  options: Omit<CompileOptions, 'verified' | 'extraHelpers'>;
}

/** The module and wabt's complaint about it, if any. */
export type CodegenReply = { result: CompileResult; problem?: string } | { userError: string } | { internal: string };

export interface CodegenThread {
  /** Hands the verifier's facts to the thread; resolves to its module. */
  generate(facts: VerifiedFacts): Promise<{ result: CompileResult; problem?: string }>;
  /** Ends the thread without a module (the verifier refused the object). */
  cancel(): Promise<void>;
}

/** Starts the thread for `obj`, or returns undefined when it is too small to be worth one. */
export function startCodegenThread(obj: BpfObject, request: CodegenRequest): CodegenThread | undefined {
  const insns = obj.programs.reduce((n, p) => n + p.insns.length, 0);
  if (insns < THREAD_MIN_INSNS) return undefined;
  const worker = new Worker(new URL('./codegen-worker.js', import.meta.url), { workerData: request });
  const reply = new Promise<{ result: CompileResult; problem?: string }>((resolve, reject) => {
    worker.once('message', (r: CodegenReply) => {
      if ('result' in r) resolve(r);
      else if ('userError' in r) reject(new UserError(r.userError));
      else reject(new Error(`code generation thread: ${r.internal}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`code generation thread exited (${code}) without a module`)));
  });
  // Its error is thrown where it is awaited (generate); until then it is not an unhandled rejection.
  reply.catch(() => undefined);
  return {
    generate(facts) {
      worker.postMessage(facts);
      return reply;
    },
    async cancel() {
      await worker.terminate();
    },
  };
}
