// The build `npm test` runs from: the same layout as `npm run build` (dist/, bin/ launchers,
// build/examples/) under .test-build/, so that building for a test run never rewrites a file
// that a command running from the checkout's dist/ depends on (a `bpf2wasm run` left up while
// the tests build). Everything the code finds by the package root (sources, fixtures, the
// native addon, katran.proto) is still the checkout's; core/package-root.ts tells the two apart.
// `node scripts/build-test.mjs [DIR]` builds into DIR instead (test/runner/test-build.test.ts).

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEST_BUILD = process.argv[2] ? resolve(process.argv[2]) : join(root, '.test-build');

function run(what, args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build-test: ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

run('tsc', [join(root, 'node_modules', 'typescript-native', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', join(TEST_BUILD, 'dist')]);
// The launchers find their dist/ as ../dist from themselves, so copies next to the test build's dist/ run it.
mkdirSync(join(TEST_BUILD, 'bin'), { recursive: true });
for (const f of readdirSync(join(root, 'bin')).filter((f) => f.endsWith('.js')))
  copyFileSync(join(root, 'bin', f), join(TEST_BUILD, 'bin', f));
run('build-examples', [join(root, 'scripts', 'build-examples.mjs'), TEST_BUILD]);
// After the examples: derive-binaryen compiles them to find the binaryen functions a compile calls.
run('derive-binaryen', [join(root, 'scripts', 'derive-binaryen.mjs'), TEST_BUILD]);
run('derive-wabt', [join(root, 'scripts', 'derive-wabt.mjs'), TEST_BUILD]);
run('render-help', [join(root, 'scripts', 'render-help.mjs'), TEST_BUILD]);
