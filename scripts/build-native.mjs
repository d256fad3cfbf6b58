// Builds the native addon (native/, node-gyp against the system's Node headers and
// Debian's libxdp/libbpf) and compiles its kernel half, the prefilter XDP program. Runs
// at `npm ci` (the package's install script) and is quick to re-run: node-gyp rebuilds
// only when a source is newer than the addon. Failures are one line naming the cause.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { arch } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const buildDir = join(nativeDir, 'build');
const addon = join(buildDir, 'Release', 'bpf2wasm_native.node');
const multiarch = arch() === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';

function fail(message) {
  console.error(`build-native: ${message}`);
  process.exit(1);
}

function run(command, args, what) {
  const r = spawnSync(command, args, { cwd: nativeDir, encoding: 'utf8' });
  if (r.error) fail(`${what}: ${r.error.code === 'ENOENT' ? `${command} not found (run scripts/setup.sh)` : r.error.message}`);
  if (r.status !== 0) {
    const lines = `${r.stdout}\n${r.stderr}`.split('\n');
    const first =
      lines.find((l) => /error/i.test(l) && !/^gyp ERR! (stack|System|command|cwd|node|not ok)/.test(l)) ??
      lines.find((l) => l.trim()) ??
      '';
    fail(`${what} failed: ${first.trim()}`);
  }
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : 0);
const newestSource = Math.max(
  mtime(join(nativeDir, 'binding.gyp')),
  ...readdirSync(join(nativeDir, 'src')).map((f) => mtime(join(nativeDir, 'src', f))),
);

if (mtime(addon) < newestSource) {
  // npm bundles node-gyp; on a closed network it must use the system's Node headers.
  const require = createRequire(import.meta.url);
  let gyp;
  try {
    gyp = join(
      dirname(
        require.resolve('node-gyp/package.json', {
          paths: [join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules')],
        }),
      ),
      'bin',
      'node-gyp.js',
    );
  } catch {
    fail('node-gyp not found (it ships with npm)');
  }
  const args = [gyp, 'rebuild'];
  if (existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
  run(process.execPath, args, 'node-gyp (needs g++, libxdp-dev, libbpf-dev)');
  console.log('build-native: built native/build/Release/bpf2wasm_native.node');
}

const prefilterSource = join(nativeDir, 'prefilter.bpf.c');
const prefilter = join(buildDir, 'prefilter.bpf.o');
if (mtime(prefilter) < mtime(prefilterSource)) {
  mkdirSync(buildDir, { recursive: true });
  run(
    'clang',
    ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${multiarch}`, '-c', prefilterSource, '-o', prefilter],
    'clang on prefilter.bpf.c',
  );
}
