// The compile command's code generation thread (codegen-thread.ts): loads binaryen and wabt
// while the main thread verifies, then generates the module from the facts it is sent,
// validates it with wabt, and posts it back.

import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import type { VerifiedFacts } from '../compiler/verify-programs.js';
import type { CodegenReply, CodegenRequest } from './codegen-thread.js';

const request = workerData as CodegenRequest;

function fail(e: unknown): CodegenReply {
  return e instanceof UserError ? { userError: e.message } : { internal: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

// The facts may arrive before the loads below finish; keep them.
const facts = new Promise<VerifiedFacts>((resolve) => parentPort!.once('message', resolve));
let reply: CodegenReply;
try {
  const { prepareWabt, wabtValidate } = await import('../compiler/validate.js');
  prepareWabt();
  const [{ loadObject }, { compileObject }] = await Promise.all([import('../compiler/object.js'), import('../compiler/compile.js')]);
  const obj = loadObject(request.bytes, request.source);
  const result = compileObject(obj, { ...request.options, verified: await facts });
  reply = { result, problem: await wabtValidate(result.wasm) };
} catch (e) {
  reply = fail(e);
}
parentPort!.postMessage(reply);
