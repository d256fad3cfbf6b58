// katran's balancer.bpf.o (built outside this repository; path in KATRAN_BPF_OBJ):
// compiles at the default level to a module wabt validates, and the maps bpf2wasm
// reports are the ones the kernel creates for the same object.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { loadObject } from '../../compiler/object.js';
import { compileObject, DEFAULT_OPT_LEVEL } from '../../compiler/compile.js';
import { wabtValidate } from '../../compiler/validate.js';
import { MAP_TYPE_NAME } from '../../core/map-types.js';
import { skip } from '../support/skip.js';
import { kernelLoadMissing, kernelMaps } from '../support/bpffs.js';
import { BPF2WASM_BIN } from '../../core/package-root.js';
import { report } from '../support/report.js';

const katran = process.env.KATRAN_BPF_OBJ;
const cli = BPF2WASM_BIN;

test('katran compiles to a valid module', async () => {
  if (!katran) return void skip('katran compile', 'katran-object', "set KATRAN_BPF_OBJ to katran's balancer.bpf.o");
  const started = performance.now();
  const obj = loadObject(new Uint8Array(readFileSync(katran)), katran);
  const result = compileObject(obj);
  const elapsed = performance.now() - started;
  assert.is(await wabtValidate(result.wasm), undefined);
  assert.equal(
    result.manifest.programs.map((p) => p.name),
    ['balancer_ingress'],
  );
  assert.is(result.manifest.maps.length, 17);
  // Warm compile, as a long-lived compiler process would see it.
  const again = performance.now();
  compileObject(loadObject(new Uint8Array(readFileSync(katran)), katran));
  report(
    `katran compile: ${elapsed.toFixed(0)} ms first, ${(performance.now() - again).toFixed(0)} ms warm, ${result.wasm.length} bytes at the default -O${DEFAULT_OPT_LEVEL}`,
  );
});

test("katran --list matches the kernel's view of the maps", () => {
  if (!katran) return void skip('katran --list', 'katran-object', "set KATRAN_BPF_OBJ to katran's balancer.bpf.o");
  const obj = loadObject(new Uint8Array(readFileSync(katran)), katran);
  const listed = spawnSync(process.execPath, [cli, '--list', katran], { encoding: 'utf8' });
  assert.is(listed.status, 0, listed.stderr);
  for (const m of obj.maps) assert.ok(listed.stdout.includes(m.name), `--list shows ${m.name}`);
  const unavailable = kernelLoadMissing();
  if (unavailable) return void skip('katran maps vs kernel', unavailable);
  const kernel = kernelMaps(
    katran,
    obj.maps.map((m) => m.name),
  );
  for (const m of obj.maps) {
    const k = kernel.get(m.name)!;
    const what = `map ${m.name}`;
    assert.is(MAP_TYPE_NAME[m.type], k.type, `${what} type`);
    assert.is(m.keySize, k.bytes_key, `${what} key size`);
    assert.is(m.valueSize, k.bytes_value, `${what} value size`);
    assert.is(m.maxEntries, k.max_entries, `${what} max_entries`);
    assert.is(m.flags, k.flags, `${what} flags`);
  }
});

test.run();
