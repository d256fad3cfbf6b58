// The compile command generates the module of a large object in a thread that loads
// binaryen while the main thread verifies (cli/codegen-thread.ts). The thread must change
// nothing but the time: the same module, byte for byte, as compiling on one thread, for
// every example object.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileBpf, scratchDir } from '../support/clang.js';
import { BPF2WASM_BIN, packageRoot } from '../../core/package-root.js';

const cli = BPF2WASM_BIN;

function compile(object: string, out: string, threadMin: string): Buffer {
  const r = spawnSync(process.execPath, [cli, '-q', object, '-o', out], {
    encoding: 'utf8',
    env: { ...process.env, BPF2WASM_THREAD_MIN_INSNS: threadMin },
  });
  assert.is(r.status, 0, r.stderr);
  return readFileSync(out);
}

test('every example compiles to the same bytes with code generation in a thread and on one thread', () => {
  const sources = readdirSync(join(packageRoot, 'examples')).filter((f) => f.endsWith('.bpf.c'));
  assert.ok(sources.length >= 5, 'the examples are there');
  for (const source of sources) {
    const object = compileBpf(join(packageRoot, 'examples', source));
    const threaded = compile(object, join(scratchDir(), `${source}.thread.wasm`), '0');
    const inline = compile(object, join(scratchDir(), `${source}.inline.wasm`), '1000000000');
    assert.ok(threaded.equals(inline), `${source}: the modules differ`);
  }
});

test.run();
