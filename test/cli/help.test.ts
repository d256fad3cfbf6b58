// A plain help request is answered from text rendered at build time
// (scripts/render-help.mjs), without loading yargs: the cached text must be exactly what
// yargs prints now, for the main help and every subcommand's.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { BPF2WASM_BIN } from '../../core/package-root.js';

const cli = BPF2WASM_BIN;
const help = (args: string[], live: boolean) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, BPF2WASM_LIVE_HELP: live ? '1' : '' } });

for (const args of [['--help'], ['run', '--help'], ['test-run', '--help'], ['map', '--help']]) {
  test(`bpf2wasm ${args.join(' ')}: the cached text is yargs' own`, () => {
    const cached = help(args, false);
    const live = help(args, true);
    assert.is(cached.status, 0, cached.stderr);
    assert.is(live.status, 0, live.stderr);
    assert.ok(live.stdout.includes('--help'), 'the live rendering is a help text');
    assert.is(cached.stdout, live.stdout);
  });
}

test.run();
