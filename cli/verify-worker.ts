// The compile command's verifier thread: verifies the selected programs of an object while
// the main thread loads binaryen (about 0.4 s of parsing and instantiating that would
// otherwise come after the verifier's own 0.5 s for katran). Posts the facts codegen needs,
// or the user error that ends the compile.

import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import { loadObject } from '../compiler/object.js';
import { selectPrograms } from '../compiler/select.js';
import { verifyPrograms } from '../compiler/verify-programs.js';
import type { VerifyRequest, VerifyReply } from './verify-thread.js';

const request = workerData as VerifyRequest;
let reply: VerifyReply;
const started = performance.now();
try {
  const obj = loadObject(request.bytes, request.source);
  const facts = verifyPrograms(obj, selectPrograms(obj, request.programs), { memorySafety: request.memorySafety });
  reply = { facts, ms: performance.now() - started };
} catch (e) {
  reply = e instanceof UserError ? { userError: e.message } : { internal: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}
parentPort!.postMessage(reply);
