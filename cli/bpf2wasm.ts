#!/usr/bin/env node
// The `bpf2wasm` command line, the one front end: compile (the default command), run,
// test-run and map, one file each. Exit codes: 0 success, 1 a user error (one line on
// stderr naming the cause and place), 2 an internal error (a bug: full details).
//
// Start-up matters (`--help`, a tiny compile): this file and the command files load only
// light modules; each handler imports what it needs (binaryen, wabt, the runtime, grpc,
// the native addon) when it runs. A plain compile does not load yargs at all
// (cli/simple-compile-args.ts); everything else is parsed by yargs (cli/parser.ts).

import { UserError, printable } from '../core/errors.js';
import { compileCommand } from './compile.js';
import { simpleCompileArgs } from './simple-compile-args.js';

export async function main(argv: string[]): Promise<number> {
  try {
    const simple = simpleCompileArgs(argv);
    if (simple) await compileCommand(simple);
    else {
      const { cliParser } = await import('./parser.js');
      await (await cliParser(argv)).parseAsync();
    }
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

// process.argv without node and the script (what yargs' hideBin gives for a plain node).
process.exitCode = await main(process.argv.slice(2));
