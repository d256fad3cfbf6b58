// The yargs-free reading of a plain compile (cli/simple-compile-args.ts) against yargs
// itself, the command line's definition (cli/parser.ts): every form it accepts must give
// the compile command exactly the arguments yargs gives it, and every form it declines
// must be one yargs then parses (or rejects) on its own.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cliParser } from '../../cli/parser.js';
import type { CompileArgs } from '../../cli/compile.js';
import { simpleCompileArgs } from '../../cli/simple-compile-args.js';

/** The arguments yargs hands the compile command for `argv`, or undefined when it runs no compile. */
async function viaYargs(argv: string[]): Promise<CompileArgs | undefined> {
  let seen: CompileArgs | undefined;
  await (
    await cliParser(argv, async (args) => {
      seen = args;
    })
  ).parseAsync();
  if (!seen) return undefined;
  const fields: (keyof CompileArgs)[] = ['input', 'output', 'program', 'O', 'list', 'disasm', 'wat', 'max-cpus', 'quiet', 'verifier'];
  return Object.fromEntries(fields.map((f) => [f, seen![f]])) as unknown as CompileArgs;
}

const ACCEPTED: string[][] = [
  ['x.o'],
  ['build/examples/xdp_pass.o', '-o', 'out.wasm'],
  ['x.o', '--output', 'o.wasm', '-q'],
  ['--quiet', 'x.o'],
  ['-O', '0', 'x.o'],
  ['x.o', '-O', '3', '-o', 'y.wasm'],
  ['-p', 'xdp_pass', 'x.o'],
  ['x.o', '--program', 'a', '--program', 'b', '-q'],
  ['--program', 'prog', 'x.o', '-o', 'out.wasm', '-O', '1', '-q'],
  ['/abs/path/balancer.bpf.o', '-q', '-o', '/tmp/k.wasm'],
  ['./x'],
];

for (const argv of ACCEPTED) {
  test(`\`${argv.join(' ')}\`: the same arguments as yargs`, async () => {
    const simple = simpleCompileArgs(argv);
    assert.ok(simple, 'taken by the simple path');
    assert.equal(simple, await viaYargs(argv));
  });
}

const DECLINED: string[][] = [
  [],
  ['--help'],
  ['run', 'x.wasm'],
  ['test-run', 'x.wasm', '--pcap', 'p.pcap'],
  ['map', 'dump', 'x.wasm', 'm'],
  ['xdp'], // a bare word could be a command
  ['x.o', '--list'],
  ['x.o', '--wat'],
  ['x.o', '--verifier', 'structural'],
  ['x.o', '--max-cpus', '4'],
  ['x.o', '-O1'],
  ['x.o', '-O', 'x'],
  ['x.o', '-o'],
  ['x.o', '-o', 'a.wasm', '-o', 'b.wasm'],
  ['x.o', 'y.o'],
  ['x.o', '--output=o.wasm'],
  ['x.o', '-qo', 'o.wasm'],
  ['x.o', '--', '-q'],
];

for (const argv of DECLINED) {
  test(`\`${argv.join(' ')}\`: left to yargs`, () => {
    assert.is(simpleCompileArgs(argv), undefined);
  });
}

test.run();
