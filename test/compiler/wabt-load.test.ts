// wabt, the second opinion on every module a compile writes, loads from the copy
// scripts/derive-wabt.mjs made at build time (compiler/wabt-load.ts). The oracle is
// require('wabt') (BPF2WASM_WABT=require): the same verdict and message for valid modules
// (every example's) and for broken ones; and a compile takes the copy with its code cache.
// The modules are Buffers from hex, views into Node's pool: wabt read such a view's whole
// buffer from its start (validate.ts copies it first).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileBpf } from '../support/clang.js';
import { packageRoot } from '../../core/package-root.js';

/** wabt's source and its verdict on each module (hex), in a fresh process with the compile command's V8 flags. */
function verdictsInChild(modules: string[], env: Record<string, string>): { source: string; verdicts: (string | null)[] } {
  const dist = new URL('../../', import.meta.url).href;
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { readFileSync } from 'node:fs';
       const { setCompilerV8Flags } = await import(${JSON.stringify(dist + 'compiler/v8-flags.js')});
       setCompilerV8Flags();
       const { wabtValidate } = await import(${JSON.stringify(dist + 'compiler/validate.js')});
       const { loadWabt } = await import(${JSON.stringify(dist + 'compiler/wabt-load.js')});
       const verdicts = [];
       for (const hex of JSON.parse(readFileSync(0, 'utf8'))) verdicts.push((await wabtValidate(Buffer.from(hex, 'hex'))) ?? null);
       console.log(JSON.stringify({ source: (await loadWabt()).source, verdicts }));`,
    ],
    { encoding: 'utf8', env: { ...process.env, ...env }, input: JSON.stringify(modules) }, // too long for an argument
  );
  assert.is(r.status, 0, `${r.signal ?? ''} ${r.error ?? ''} ${r.stderr}`);
  return JSON.parse(r.stdout) as { source: string; verdicts: (string | null)[] };
}

test('the derived wabt gives the same verdicts as require("wabt"), and a compile takes it with its cache', () => {
  const dist = new URL('../../', import.meta.url).href;
  const sources = readdirSync(join(packageRoot, 'examples')).filter((f) => f.endsWith('.bpf.c'));
  const objects = sources.map((s) => compileBpf(join(packageRoot, 'examples', s)));
  const compiled = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { readFileSync } from 'node:fs';
       const { loadObject } = await import(${JSON.stringify(dist + 'compiler/object.js')});
       const { compileObject } = await import(${JSON.stringify(dist + 'compiler/compile.js')});
       console.log(JSON.stringify(${JSON.stringify(objects)}.map((f) => Buffer.from(compileObject(loadObject(readFileSync(f), f)).wasm).toString('hex'))));`,
    ],
    { encoding: 'utf8' },
  );
  assert.is(compiled.status, 0, compiled.stderr);
  const valid = JSON.parse(compiled.stdout) as string[];
  const broken = [
    valid[0]!.slice(0, valid[0]!.length - 6), // truncated
    '0061736d01000000' + '010401600000' + '030201000a050103004100', // a body missing its end
    '0061736d01000000' + '0105016000017f' + '030201000a0601040042000b', // i64.const where i32 is returned
  ];
  const derived = verdictsInChild([...valid, ...broken], {});
  const plain = verdictsInChild([...valid, ...broken], { BPF2WASM_WABT: 'require' });
  assert.is(derived.source, 'derived+cache', 'a compile loads the derived copy with its code cache');
  assert.is(plain.source, 'require');
  assert.equal(derived.verdicts, plain.verdicts);
  assert.equal(
    derived.verdicts.slice(0, valid.length),
    valid.map(() => null),
    'every example module is valid',
  );
  derived.verdicts.slice(valid.length).forEach((v, i) => assert.ok(v, `broken module ${i} is rejected`));
  assert.match(derived.verdicts.at(-1)!, /type mismatch/);
});

test.run();
