// Bad input through the real command line: each case must end with exit status 1 and
// exactly one line on stderr that names the cause (and the place, where there is one) —
// no stack trace — and must not leave an output file behind.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileBpf, compileHost, scratchDir } from '../support/clang.js';
import { BPF2WASM_BIN, packageRoot } from '../../core/package-root.js';
import { parseElf } from '../../compiler/elf.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { skip } from '../support/skip.js';

const root = packageRoot;
const fixtures = join(root, 'test', 'fixtures', 'bad');
const cli = BPF2WASM_BIN;

function run(...args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: scratchDir() });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function expectUserError(args: string[], pattern: RegExp): void {
  const out = join(scratchDir(), 'out.wasm');
  const r = run(...args, '-o', out);
  assert.is(r.status, 1, `exit status for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  const line = lines[0]!; // split always gives at least one element
  assert.ok(line.startsWith('bpf2wasm: '), line);
  assert.not.ok(/\n\s+at /.test(r.stderr), 'no stack trace');
  assert.match(line, pattern);
  assert.not.ok(existsSync(out), 'no output written');
}

function withBytes(name: string, bytes: Uint8Array): string {
  const path = join(scratchDir(), name);
  writeFileSync(path, bytes);
  return path;
}

test('a missing file', () => expectUserError([join(scratchDir(), 'nope.o')], /nope\.o.*(ENOENT|cannot read)/));

test('--max-cpus out of range', () => {
  const object = compileBpf(join(root, 'examples', 'xdp_pass.bpf.c'));
  for (const n of ['0', '1.5', '9000']) expectUserError([object, '--max-cpus', n], /--max-cpus must be an integer in 1\.\.8192/);
});

test('not an ELF file', () => {
  expectUserError([withBytes('text.o', new TextEncoder().encode('this is not an object file\n'))], /ELF/i);
});

test('an ELF object for another machine', () => {
  expectUserError([compileHost(join(fixtures, 'host_object.c'))], /machine|EM_BPF|247|x86/i);
});

test('a truncated object', () => {
  const good = readFileSync(compileBpf(join(fixtures, 'unknown_helper.c')));
  expectUserError([withBytes('truncated.o', good.subarray(0, Math.floor(good.length * 0.6)))], /trunc|beyond|outside|past|end of file/i);
});

test('corrupted BTF', () => {
  const bytes = new Uint8Array(readFileSync(compileBpf(join(fixtures, 'unknown_helper.c'))));
  // .BTF starts with magic 0xeb9f (LE: 9f eb), version 1; its header's type_len is at +12.
  const at = bytes.findIndex((b, i) => b === 0x9f && bytes[i + 1] === 0xeb && bytes[i + 2] === 1);
  assert.ok(at > 0, 'found the BTF header');
  new DataView(bytes.buffer).setUint32(at + 12, 0x7fffff00, true);
  expectUserError([withBytes('bad-btf.o', bytes)], /BTF/);
});

test('a relocation to a missing symbol', () => {
  expectUserError([compileBpf(join(fixtures, 'missing_symbol.c'))], /missing_var/);
});

test('a kfunc call, as clang emits it and as BPF_PSEUDO_KFUNC_CALL', () => {
  const object = compileBpf(join(fixtures, 'kfunc_call.c'));
  const kfunc =
    /: xdp: instruction \d+: call to kfunc 'bpf_xdp_ct_lookup': kfuncs are .*not supported in userspace \(except bpf_xdp_metadata_rx_timestamp, /;
  expectUserError([object], kfunc);
  // The same call with src_reg = BPF_PSEUDO_KFUNC_CALL (2), as libbpf rewrites it.
  const bytes = new Uint8Array(readFileSync(object));
  const xdp = parseElf(bytes, object).byName('xdp')!;
  const calls = [];
  for (let at = 0; at < xdp.size; at += 8) if (xdp.data[at] === 0x85 && xdp.data[at + 1] === 0x10) calls.push(xdp.offset + at);
  assert.is(calls.length, 1, 'the fixture has one call to the extern function');
  bytes[calls[0]! + 1] = 0x20;
  expectUserError([withBytes('kfunc.o', bytes)], kfunc);
});

test('an unknown helper', () => {
  expectUserError([compileBpf(join(fixtures, 'unknown_helper.c'))], /instruction \d+ .*helper.*9999.*\[unknown_helper\.c:\d+: /i);
});

test('a map definition the kernel would not create (value size 0): refused at compile time, as the kernel refuses it', () => {
  const object = compileBpf(join(fixtures, 'empty_value_map.c'));
  expectUserError([object], /: \.maps: empty_values: invalid map definition: key and value sizes must be positive/);
  const why = kernelMissing();
  if (why) return void skip("the kernel's answer for a value size of 0", why);
  assert.throws(() => KernelObject.load(object).close(), /empty_values.*Invalid argument/);
});

test('a verifier rejection with a code generation thread started: the same one line, exit 1, no output', () => {
  const object = compileBpf(join(root, 'test', 'fixtures', 'hostile', 'null_write.c'));
  const inline = run(object, '-o', join(scratchDir(), 'inline.wasm'));
  const threaded = spawnSync(process.execPath, [cli, object, '-o', join(scratchDir(), 'threaded.wasm')], {
    encoding: 'utf8',
    cwd: scratchDir(),
    env: { ...process.env, BPF2WASM_THREAD_MIN_INSNS: '0' },
  });
  assert.is(inline.status, 1, inline.stderr);
  assert.is(threaded.status, 1, threaded.stderr);
  assert.match(threaded.stderr, /instruction \d+ .*R1 invalid mem access 'scalar'/);
  assert.is(threaded.stderr, inline.stderr);
  assert.not.ok(existsSync(join(scratchDir(), 'threaded.wasm')), 'no output file');
});

test('an invalid jump', () => {
  expectUserError([compileBpf(join(fixtures, 'bad_jump.c'))], /instruction 0 .*(jump|target)/i);
});

test('bad command-line arguments', () => {
  const obj = compileBpf(join(fixtures, 'unknown_helper.c'));
  expectUserError([obj, '--no-such-flag'], /no-such-flag|Unknown argument/i);
  expectUserError([obj, '-O', '9'], /-O/);
});

test.run();
