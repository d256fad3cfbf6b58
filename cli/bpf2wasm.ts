#!/usr/bin/env node
// The `bpf2wasm` command line. Exit codes: 0 success, 1 a user error (one line on
// stderr naming the cause and place), 2 an internal error (a bug: full details).

import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError, printable } from '../core/errors.js';
import { listing } from '../core/isa.js';
import { loadObject } from '../compiler/object.js';
import { describeObject } from '../compiler/list.js';
import { compileObject, DEFAULT_OPT_LEVEL, selectPrograms } from '../compiler/compile.js';
import { wabtValidate } from '../compiler/validate.js';
import { registerMap, registerTestRun } from './test-run.js';
import { registerRun } from './run.js';

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot read (${code ?? (e as Error).message})`);
  }
}

function defaultOutput(input: string): string {
  return basename(input).replace(/\.(bpf\.)?o$/, '') + '.wasm';
}

interface CompileArgs {
  input: string;
  output?: string;
  program?: string[];
  O: number;
  list: boolean;
  disasm: boolean;
  wat: boolean;
  'max-cpus': number;
  quiet: boolean;
}

async function compileCommand(args: CompileArgs): Promise<void> {
  const bytes = readInput(args.input);
  const obj = loadObject(bytes, args.input);
  if (args.list) {
    process.stdout.write(describeObject(obj) + '\n');
    return;
  }
  if (args.disasm) {
    for (const prog of selectPrograms(obj, args.program)) {
      const labels = new Map(prog.funcs.map((f) => [f.start, f.name]));
      process.stdout.write(`program ${prog.name} (section ${prog.section}), ${prog.insns.length} instructions\n`);
      process.stdout.write(listing(prog.insns, labels) + '\n');
    }
    return;
  }
  if (!Number.isInteger(args.O) || args.O < 0 || args.O > 4) throw new UserError(`-O must be 0..4, got ${args.O}`);
  const started = performance.now();
  const result = compileObject(obj, { programs: args.program, optimize: args.O, maxCpus: args['max-cpus'], wantText: args.wat });
  const problem = await wabtValidate(result.wasm);
  if (problem) throw new Error(`wabt rejects the generated module: ${problem}`);
  const elapsed = performance.now() - started;
  if (args.wat) {
    process.stdout.write(result.text ?? '');
    return;
  }
  const output = args.output ?? defaultOutput(args.input);
  writeFileSync(output, result.wasm);
  if (!args.quiet) {
    const progs = result.manifest.programs.map((p) => p.name).join(', ');
    process.stderr.write(
      `${output}: ${result.wasm.length} bytes, programs ${progs}, ${result.manifest.maps.length} maps; ` +
        `compiled in ${elapsed.toFixed(0)} ms (verify ${result.timings.verifyMs.toFixed(0)} ms, ` +
        `codegen -O${args.O} ${result.timings.codegenMs.toFixed(0)} ms)\n`,
    );
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    let parser = yargs(argv)
      .scriptName('bpf2wasm')
      .usage('$0 <input.o> [-o out.wasm] [--program NAME] [-O N]\n$0 --list|--disasm|--wat <input.o>')
      .strict()
      .help()
      .version(false)
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new UserError(msg);
      });
    parser = registerRun(registerMap(registerTestRun(parser)));
    parser = parser.command(
      '$0 <input>',
      'compile an eBPF ELF object to WebAssembly',
      (y) =>
        y
          .positional('input', { type: 'string', demandOption: true, describe: 'eBPF ELF object (clang -target bpf)' })
          .option('output', { alias: 'o', type: 'string', describe: 'output .wasm (default: <input>.wasm)' })
          .option('program', { alias: 'p', type: 'string', array: true, describe: 'program (function or section name) to compile; repeatable' })
          .option('O', { type: 'number', default: DEFAULT_OPT_LEVEL, describe: 'binaryen optimisation level 0..4' })
          .option('list', { type: 'boolean', default: false, describe: 'list programs and maps' })
          .option('disasm', { type: 'boolean', default: false, describe: 'print the relocated instructions' })
          .option('wat', { type: 'boolean', default: false, describe: 'print the module as WebAssembly text' })
          .option('max-cpus', { type: 'number', default: 16, describe: 'CPUs (workers) per-CPU maps are laid out for' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false }),
      async (args) => compileCommand(args as unknown as CompileArgs),
    );
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

const code = await main(hideBin(process.argv));
process.exitCode = code;
