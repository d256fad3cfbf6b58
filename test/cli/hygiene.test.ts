// The command line on an operator's bad day, through the real CLI: outputs that cannot be
// written and inputs that are not regular files end with exit 1 and one line on stderr (no
// stack trace, no hang); options go before or after the input; and a command loads only
// what it needs (--help no compiler, runtime, grpc or addon; test-run of a module no
// binaryen), as seen by a module-resolution hook.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileBpf, scratchDir } from '../support/clang.js';
import { isRoot, skip } from '../support/skip.js';
import { BPF2WASM_BIN, packageRoot } from '../../core/package-root.js';
import { writePcap } from '../../packets/pcap.js';

const cli = BPF2WASM_BIN;
const object = compileBpf(join(packageRoot, 'examples', 'xdp_pass.bpf.c'));
const wasm = join(scratchDir(), 'hygiene-xdp_pass.wasm');
const pcap = join(scratchDir(), 'hygiene-one.pcap');
writeFileSync(pcap, writePcap([{ timestampNs: 0n, originalLength: 60, data: new Uint8Array(60) }]));

function run(args: string[], options: { timeout?: number; node?: string[]; env?: Record<string, string> } = {}) {
  return spawnSync(process.execPath, [...(options.node ?? []), cli, ...args], {
    encoding: 'utf8',
    cwd: scratchDir(),
    timeout: options.timeout ?? 20_000,
    env: { ...process.env, ...options.env },
  });
}

/** Exit 1 and exactly one `bpf2wasm: ...` line matching `pattern`, without a stack trace. */
function expectOneLine(r: ReturnType<typeof run>, pattern: RegExp, what: string): void {
  assert.is(r.error, undefined, `${what}: ${r.error}`); // a timeout (a hang) shows here
  assert.is(r.status, 1, `${what}: exit status; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, `${what}: one line expected, got:\n${r.stderr}`);
  assert.ok(lines[0]!.startsWith('bpf2wasm: '), lines[0]);
  assert.not.ok(/\n\s+at /.test(r.stderr), `${what}: no stack trace`);
  assert.match(lines[0]!, pattern, what);
}

test('a module to run', () => {
  const r = run([object, '-o', wasm, '-q']);
  assert.is(r.status, 0, r.stderr);
});

test('options before or after the input', () => {
  const out = join(scratchDir(), 'hygiene-order.wasm');
  for (const args of [
    ['--program', 'xdp_pass', object, '-o', out, '-q'],
    [object, '--program', 'xdp_pass', '-o', out, '-q'],
    ['-q', '-o', out, '-p', 'xdp_pass', object],
  ]) {
    rmSync(out, { force: true });
    const r = run(args);
    assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(existsSync(out), `${args.join(' ')} wrote the module`);
  }
  // A repeatable option still repeats.
  const listed = run(['--disasm', '--program', 'xdp_pass', '--program', 'xdp_pass', object]);
  assert.is(listed.status, 0, listed.stderr);
  assert.is(listed.stdout.match(/^program xdp_pass /gm)?.length, 2);
  // test-run too: the module after its options.
  const tr = run(['test-run', '--pcap', pcap, '--update', 'nope=00:00', '--program', 'xdp_pass', wasm]);
  expectOneLine(tr, /no map 'nope'/, 'test-run with options first');
  const ok = run(['test-run', '--json', '--pcap', pcap, wasm]);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /"action":"XDP_PASS"/);
});

test('an output that cannot be written: one line, exit 1', () => {
  const file = join(scratchDir(), 'hygiene-a-file');
  writeFileSync(file, 'x');
  const cases: [string, RegExp][] = [
    [join(scratchDir(), 'no-such-dir', 'out.wasm'), /no-such-dir\/out\.wasm: cannot write \(ENOENT: no directory .*no-such-dir\)$/],
    [scratchDir(), /cannot write \(EISDIR/],
    [join(file, 'out.wasm'), /hygiene-a-file\/out\.wasm: cannot write \(ENOTDIR/],
  ];
  for (const [output, pattern] of cases) expectOneLine(run([object, '-o', output]), pattern, `-o ${output}`);
  // test-run's --out as well, after the run.
  expectOneLine(run(['test-run', wasm, '--pcap', pcap, '--out', scratchDir()]), /cannot write \(EISDIR/, 'test-run --out DIR');
});

test('an output on a read-only file system: one line, exit 1', () => {
  // Root writes through file modes (chmod 000 stops nobody), so the test makes a read-only
  // bind mount in a mount namespace of its own.
  if (!isRoot()) return void skip('read-only output', 'root', 'unshare -m and mount');
  const dir = join(scratchDir(), 'hygiene-ro');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'out.wasm');
  const script = `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" "$3" "$4" -o "$5"`;
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', dir, process.execPath, cli, object, out], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.error || (r.status !== 1 && /unshare|mount/.test(r.stderr)))
    return void skip('read-only output', 'host-tool', `unshare/mount unavailable: ${r.error ?? r.stderr.trim()}`);
  expectOneLine(r, /out\.wasm: cannot write \(EROFS: read-only file system\)$/, 'read-only -o');
  assert.not.ok(existsSync(out));
});

test('inputs that are not regular files are refused before reading', () => {
  expectOneLine(
    run(['/dev/zero'], { timeout: 10_000 }),
    /^bpf2wasm: \/dev\/zero: cannot read \(a character device; expected a regular file\)$/,
    '/dev/zero',
  );
  expectOneLine(run([scratchDir()]), /cannot read \(a directory; expected a regular file\)$/, 'a directory');
  const fifo = join(scratchDir(), 'hygiene.fifo');
  rmSync(fifo, { force: true });
  const made = spawnSync('mkfifo', [fifo]);
  if (made.status !== 0) return void skip('FIFO input', 'host-tool', `mkfifo failed: ${made.stderr}`);
  // Nobody writes to the FIFO: reading it would block for ever (the timeout would show it).
  expectOneLine(run([fifo], { timeout: 10_000 }), /hygiene\.fifo: cannot read \(a FIFO; expected a regular file\)$/, 'a FIFO');
  expectOneLine(
    run(['test-run', wasm, '--pcap', '/dev/zero'], { timeout: 10_000 }),
    /\/dev\/zero: cannot read \(a character device/,
    'test-run --pcap /dev/zero',
  );
  expectOneLine(run(['test-run', '/dev/zero', '--pcap', fifo], { timeout: 10_000 }), /\/dev\/zero: cannot read/, 'test-run /dev/zero');
  expectOneLine(
    run(['test-run', wasm, '--pcap', fifo, '--katran-config', fifo], { timeout: 10_000 }),
    /hygiene\.fifo: cannot read \(a FIFO/,
    '--katran-config FIFO',
  );
});

/** The file: URLs a command resolves, through a resolve hook registered before it starts. */
function modulesLoaded(args: string[], env: Record<string, string> = {}): string[] {
  const dir = join(scratchDir(), 'hygiene-hooks');
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'resolved.log');
  rmSync(log, { force: true });
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}
`,
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
  );
  const r = run(args, { node: ['--import', pathToFileURL(join(dir, 'register.mjs')).href], env });
  assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return [...new Set(readFileSync(log, 'utf8').trim().split('\n'))];
}

test('--help loads no compiler, runtime, grpc or addon; test-run of a module no binaryen', () => {
  // Answered from the build-time rendering, a help request loads not even yargs.
  const cached = modulesLoaded(['--help']);
  assert.not.ok(
    cached.some((url) => url.includes('yargs') || url.includes('/cli/')),
    '--help from the rendering loads the front end',
  );
  const help = modulesLoaded(['--help'], { BPF2WASM_LIVE_HELP: '1' });
  assert.ok(
    help.some((url) => url.includes('/cli/compile.js')),
    'the hook sees the CLI modules',
  );
  for (const heavy of [
    'binaryen',
    'wabt',
    '@grpc',
    '/native/',
    '/datapath/',
    '/runtime/machine.js',
    '/compiler/compile.js',
    '/compiler/object.js',
  ]) {
    assert.not.ok(
      help.some((url) => url.includes(heavy)),
      `--help loads ${heavy}`,
    );
  }
  const testRun = modulesLoaded(['test-run', wasm, '--pcap', pcap]);
  assert.ok(
    testRun.some((url) => url.includes('/runtime/machine.js')),
    'test-run loads the runtime',
  );
  for (const heavy of ['binaryen', 'wabt', '@grpc', '/native/', '/compiler/compile.js', '/compiler/codegen.js', '/compiler/object.js']) {
    assert.not.ok(
      testRun.some((url) => url.includes(heavy)),
      `test-run of a module loads ${heavy}`,
    );
  }
  const compile = modulesLoaded([object, '-o', wasm, '-q']);
  assert.ok(
    compile.some((url) => url.includes('binaryen')),
    'a compile loads binaryen',
  );
  for (const heavy of ['@grpc', '/native/', '/datapath/', '/runtime/machine.js', '/runtime/program.js']) {
    assert.not.ok(
      compile.some((url) => url.includes(heavy)),
      `a compile loads ${heavy}`,
    );
  }
});

test.run();
