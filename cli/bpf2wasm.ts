#!/usr/bin/env node
// The `bpf2wasm` command line, the one front end: compile (the default command), run,
// test-run and map, one file each. Exit codes: 0 success, 1 a user error (one line on
// stderr naming the cause and place), 2 an internal error (a bug: full details).
//
// Start-up matters (`--help`, a tiny compile): this file and the command files load only
// yargs and light modules; each handler imports what it needs (binaryen, wabt, the
// runtime, grpc, the native addon) when it runs.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError, printable } from '../core/errors.js';
import { registerCompile } from './compile.js';
import { registerMap } from './map.js';
import { registerRun } from './run.js';
import { registerTestRun } from './test-run.js';

export async function main(argv: string[]): Promise<number> {
  try {
    let parser = yargs(argv)
      .scriptName('bpf2wasm')
      .usage('$0 <input.o> [-o out.wasm] [--program NAME] [-O N]\n$0 --list|--disasm|--wat <input.o>')
      // A repeatable option takes one value per use, so `--program NAME input.o` leaves the input alone.
      .parserConfiguration({ 'greedy-arrays': false })
      .strict()
      .help()
      .version(false)
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new UserError(msg);
      });
    parser = registerCompile(registerRun(registerMap(registerTestRun(parser))));
    await parser.parseAsync();
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`bpf2wasm: ${printable(e.message, 2000)}\n`);
      return 1;
    }
    process.stderr.write(`bpf2wasm: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 2;
  }
}

process.exitCode = await main(hideBin(process.argv));
