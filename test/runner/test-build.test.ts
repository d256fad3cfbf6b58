// `npm test` builds into .test-build/ (scripts/build-test.mjs), never into dist/: a command
// left running from the checkout's dist/ (a `bpf2wasm run` holding a datapath up) must not
// see its files rewritten under it by a test run. Checked by building the test layout into a
// scratch folder and comparing every file under dist/ before and after, and by running the
// scratch build's own launcher.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRoot, packageRoot } from '../../core/package-root.js';

/** path -> `mtime size` of every file under dir (empty when dir does not exist). */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path);
      else {
        const s = statSync(path);
        files.set(relative(dir, path), `${s.mtimeMs} ${s.size}`);
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return files;
}

test('this file runs from the build its runner belongs to; under npm test that is .test-build/', () => {
  const here = fileURLToPath(import.meta.url);
  assert.ok(here.startsWith(join(buildRoot, 'dist') + '/'), `${here} is not under ${buildRoot}/dist`);
  if (process.env.npm_lifecycle_event === 'test') assert.is(buildRoot, join(packageRoot, '.test-build'));
});

test('a test build leaves every file under dist/ as it was, and its launcher runs its own dist/', () => {
  const dist = join(packageRoot, 'dist');
  const before = snapshot(dist);
  // Inside the checkout, as .test-build/ is: the build finds node_modules and "type": "module" above it.
  const out = join(packageRoot, '.test-build', `self-check-${process.pid}`);
  process.on('exit', () => rmSync(out, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [join(packageRoot, 'scripts', 'build-test.mjs'), out], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const after = snapshot(dist);
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((f) => before.get(f) !== after.get(f));
  assert.equal(changed.slice(0, 5), [], `${changed.length} files under dist/ changed by a test build`);

  for (const built of ['dist/test/run.js', 'dist/cli/bpf2wasm.js', 'dist/cli/help/run.txt', 'bin/bpf2wasm.js', 'build/examples/xdp_pass.o'])
    assert.ok(existsSync(join(out, built)), `the test build has no ${built}`);
  // The copied launcher answers --help from the help text next to it, not from dist/.
  writeFileSync(join(out, 'dist', 'cli', 'help', 'main.txt'), 'help of the scratch build\n');
  const help = spawnSync(process.execPath, [join(out, 'bin', 'bpf2wasm.js'), '--help'], { encoding: 'utf8' });
  assert.is(help.stdout, 'help of the scratch build\n');
  const live = spawnSync(process.execPath, [join(out, 'bin', 'bpf2wasm.js'), 'map', '--help'], {
    encoding: 'utf8',
    env: { ...process.env, BPF2WASM_LIVE_HELP: '1' },
  });
  assert.is(live.status, 0, live.stderr);
  assert.match(live.stdout, 'bpf2wasm map');
});

test.run();
