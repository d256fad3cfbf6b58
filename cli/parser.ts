// The command line's yargs parser: every command and option (the compile command's
// everyday forms also have a yargs-free path, cli/simple-compile-args.ts).

import type { Argv } from 'yargs';
import { UserError } from '../core/errors.js';
import { type CompileArgs, registerCompile } from './compile.js';
import { registerMap } from './map.js';
import { registerRun } from './run.js';
import { registerTestRun } from './test-run.js';

/** The parser for `argv`; `onCompile` replaces the compile command's handler (tests compare parsing with it). */
export async function cliParser(argv: string[], onCompile?: (args: CompileArgs) => Promise<void>): Promise<Argv> {
  const { default: yargs } = await import('yargs');
  const parser = yargs(argv)
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
  return registerCompile(registerRun(registerMap(registerTestRun(parser))), onCompile) as Argv;
}
