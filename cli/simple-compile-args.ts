// The compile command's everyday forms (`bpf2wasm input.o [-o out.wasm] [-O N] [-q]
// [--program NAME]...`) read without yargs, whose 46 modules cost ~70 ms of a compile's
// start-up (bench/README.md, "Session 7"). Anything else (another command, --help, any
// other option, a combined or `=` form this does not know) returns undefined and goes to
// yargs, which stays the one definition of the command line: test/cli/simple-compile-args.test.ts
// holds every form accepted here to the arguments yargs gives the compile command.

import { DEFAULT_MAX_CPUS } from '../core/abi.js';
import { DEFAULT_OPT_LEVEL } from '../compiler/defaults.js';
import type { CompileArgs } from './compile.js';

/** The arguments yargs would hand the compile command, or undefined when `argv` is not one of the simple forms. */
export function simpleCompileArgs(argv: readonly string[]): CompileArgs | undefined {
  let input: string | undefined;
  let output: string | undefined;
  let optimize = DEFAULT_OPT_LEVEL;
  let quiet = false;
  const programs: string[] = [];
  const value = (i: number): string | undefined => {
    const v = argv[i];
    return v !== undefined && v !== '' && !v.startsWith('-') ? v : undefined;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-q' || arg === '--quiet') quiet = true;
    else if (arg === '-o' || arg === '--output') {
      const v = value(++i);
      if (v === undefined || output !== undefined) return undefined;
      output = v;
    } else if (arg === '-O') {
      const v = value(++i);
      if (v === undefined || !/^[0-9]$/.test(v)) return undefined;
      optimize = Number(v);
    } else if (arg === '-p' || arg === '--program') {
      const v = value(++i);
      if (v === undefined) return undefined;
      programs.push(v);
    } else if (arg.startsWith('-') || input !== undefined) return undefined;
    // A bare word could name a command (run, map, ...): yargs decides.
    else if (/^[a-z][a-z-]*$/.test(arg) || arg === '') return undefined;
    else input = arg;
  }
  if (input === undefined) return undefined;
  return {
    input,
    output,
    program: programs.length ? programs : undefined,
    O: optimize,
    list: false,
    disasm: false,
    wat: false,
    'max-cpus': DEFAULT_MAX_CPUS,
    quiet,
    verifier: 'kernel',
  };
}
