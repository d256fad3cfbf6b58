// `bpf2wasm input.o [-o out.wasm]`, the default command: compile an eBPF ELF object to
// WebAssembly; or, with --list, --disasm or --wat, describe it. Only --wat and the
// compile itself load binaryen (and wabt, which checks every module we write).

import { basename } from 'node:path';
import type { Argv } from 'yargs';
import { UserError } from '../core/errors.js';
import { DEFAULT_OPT_LEVEL } from '../compiler/defaults.js';
import type { CompileResult } from '../compiler/compile.js';
import { option, options } from './options.js';

export interface CompileArgs {
  input: string;
  output?: string;
  program?: string[];
  O: number;
  list: boolean;
  disasm: boolean;
  wat: boolean;
  'max-cpus': number;
  quiet: boolean;
  verifier: 'kernel' | 'structural';
}

function defaultOutput(input: string): string {
  return basename(input).replace(/\.(bpf\.)?o$/, '') + '.wasm';
}

export async function compileCommand(args: CompileArgs): Promise<void> {
  const [{ readInputFile, writeOutputFile }, { loadObject }] = await Promise.all([
    import('../core/files.js'),
    import('../compiler/object.js'),
  ]);
  const input = readInputFile(args.input);
  const obj = loadObject(input, args.input);
  if (args.list) {
    const { describeObject } = await import('../compiler/list.js');
    process.stdout.write(describeObject(obj) + '\n');
    return;
  }
  if (args.disasm) {
    const [{ selectPrograms }, { listing }] = await Promise.all([import('../compiler/select.js'), import('../core/isa.js')]);
    for (const prog of selectPrograms(obj, args.program)) {
      const labels = new Map(prog.funcs.map((f) => [f.start, f.name]));
      process.stdout.write(`program ${prog.name} (section ${prog.section}), ${prog.insns.length} instructions\n`);
      process.stdout.write(listing(prog.insns, labels) + '\n');
    }
    return;
  }
  if (!Number.isInteger(args.O) || args.O < 0 || args.O > 4) throw new UserError(`-O must be 0..4, got ${args.O}`);
  // This process runs binaryen and wabt once and exits: V8 flags for that (baseline code
  // only, validation on first call), set before either module is compiled.
  const { setCompilerV8Flags } = await import('../compiler/v8-flags.js');
  setCompilerV8Flags();
  const started = performance.now();
  const memorySafety = args.verifier === 'kernel';
  const options = { programs: args.program, optimize: args.O, maxCpus: args['max-cpus'], wantText: args.wat, memorySafety };
  // With BPF2WASM_THREAD_MIN_INSNS, a large object: a thread loads binaryen and wabt while this one verifies, then generates the module.
  const { startCodegenThread } = await import('./codegen-thread.js');
  const thread = startCodegenThread(obj, { bytes: input, source: args.input, options });
  let result: CompileResult;
  let problem: string | undefined;
  let verifyText: string;
  if (thread) {
    const [{ selectPrograms }, { verifyPrograms }] = await Promise.all([
      import('../compiler/select.js'),
      import('../compiler/verify-programs.js'),
    ]);
    const verifyStart = performance.now();
    let facts;
    try {
      facts = verifyPrograms(obj, selectPrograms(obj, args.program), { memorySafety });
    } catch (e) {
      await thread.cancel();
      throw e;
    }
    verifyText = `verify ${(performance.now() - verifyStart).toFixed(0)} ms while a thread loaded binaryen`;
    ({ result, problem } = await thread.generate(facts));
  } else {
    // binaryen's wasm (and the functions a compile calls, compiler/v8-flags.ts) compiles on
    // V8's background threads while the compiler's modules load and the programs are
    // verified (the verifier needs no binaryen); compiler/binaryen.ts then awaits this same
    // load. A failure surfaces there.
    const { loadBinaryen } = await import('../compiler/binaryen-load.js');
    loadBinaryen().catch(() => undefined);
    const compiler = import('../compiler/compile.js');
    compiler.catch(() => undefined); // awaited below
    const [{ selectPrograms }, { verifyPrograms }, { prepareWabt, wabtValidate }] = await Promise.all([
      import('../compiler/select.js'),
      import('../compiler/verify-programs.js'),
      import('../compiler/validate.js'),
    ]);
    // wabt's wasm compiles in the background too, while binaryen loads and generates the module.
    prepareWabt();
    const verifyStart = performance.now();
    const verified = verifyPrograms(obj, selectPrograms(obj, args.program), { memorySafety });
    verifyText = `verify ${(performance.now() - verifyStart).toFixed(0)} ms`;
    const { compileObject } = await compiler;
    result = compileObject(obj, { ...options, verified });
    problem = await wabtValidate(result.wasm);
  }
  if (problem) throw new Error(`wabt rejects the generated module: ${problem}`);
  const elapsed = performance.now() - started;
  if (args.wat) {
    process.stdout.write(result.text ?? '');
    return;
  }
  const output = args.output ?? defaultOutput(args.input);
  writeOutputFile(output, result.wasm);
  if (!args.quiet) {
    const progs = result.manifest.programs.map((p) => p.name).join(', ');
    process.stderr.write(
      `${output}: ${result.wasm.length} bytes, programs ${progs}, ${result.manifest.maps.length} maps; ` +
        `compiled in ${elapsed.toFixed(0)} ms (${verifyText}, ` +
        `codegen -O${args.O} ${result.timings.codegenMs.toFixed(0)} ms)\n`,
    );
  }
}

/** The compile command on `y`; `handler` is for test/cli/simple-compile-args.test.ts, which compares argument parsing. */
export function registerCompile<T>(y: Argv<T>, handler: (args: CompileArgs) => Promise<void> = compileCommand): Argv<T> {
  return y.command(
    '$0 <input>',
    'compile an eBPF ELF object to WebAssembly',
    (c) =>
      c
        .positional('input', { type: 'string', demandOption: true, describe: 'eBPF ELF object (clang -target bpf)' })
        .option('output', { alias: 'o', type: 'string', describe: 'output .wasm (default: <input>.wasm)' })
        .options({
          program: option('program', { array: true, describe: 'program (function or section name) to compile; repeatable' }),
          ...options('max-cpus'),
        })
        .option('O', { type: 'number', default: DEFAULT_OPT_LEVEL, describe: 'binaryen optimisation level 0..4' })
        .option('list', { type: 'boolean', default: false, describe: 'list programs and maps' })
        .option('disasm', { type: 'boolean', default: false, describe: 'print the relocated instructions' })
        .option('wat', { type: 'boolean', default: false, describe: 'print the module as WebAssembly text' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false })
        .option('verifier', {
          choices: ['kernel', 'structural'] as const,
          default: 'kernel',
          describe:
            "kernel: the kernel's memory-safety rules; structural: encoding and control flow only, to test run-time containment (never for production)",
        }),
    (argv) => handler(argv as unknown as CompileArgs),
  ) as unknown as Argv<T>;
}
