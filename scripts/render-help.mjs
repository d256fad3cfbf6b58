// Renders `bpf2wasm --help` and each subcommand's help once, at build time, into
// dist/cli/help/ (`node scripts/render-help.mjs [BUILD_ROOT]`: BUILD_ROOT/dist instead of
// the checkout's, as the test build does with .test-build/), so that bin/bpf2wasm.js can answer a plain help request without loading
// yargs (about 90 ms of the 170 ms a help request otherwise costs). The text is yargs'
// own, rendered at 80 columns as for a pipe; test/cli/help.test.ts checks it against a
// live rendering.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildRoot = process.argv[2] ? resolve(process.argv[2]) : root;
const entry = join(buildRoot, 'dist', 'cli', 'bpf2wasm.js');
const outDir = join(buildRoot, 'dist', 'cli', 'help');
export const HELP_TOPICS = { main: [], run: ['run'], 'test-run': ['test-run'], map: ['map'] };

mkdirSync(outDir, { recursive: true });
for (const [topic, prefix] of Object.entries(HELP_TOPICS)) {
  const r = spawnSync(process.execPath, [entry, ...prefix, '--help'], {
    encoding: 'utf8',
    env: { ...process.env, BPF2WASM_LIVE_HELP: '1' },
  });
  if (r.status !== 0) {
    console.error(`render-help: bpf2wasm ${[...prefix, '--help'].join(' ')} failed: ${r.stderr.trim().split('\n')[0]}`);
    process.exit(1);
  }
  writeFileSync(join(outDir, `${topic}.txt`), r.stdout);
}
