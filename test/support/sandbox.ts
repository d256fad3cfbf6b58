// Runs one map-less program on both engines — compiled wasm and the reference
// interpreter — over identical fresh memories, the way the conformance suite enters a
// program: r1 = address of the input buffer, r2 = its length (both 0 without input).
// Returns r0 (or the fault) and the final bytes of the buffer and of the stack.

import { STACK_AREA } from '../../core/abi.js';
import { compileObject } from '../../compiler/compile.js';
import type { Program } from '../../core/model.js';
import { Interpreter, type HelperImports } from '../../runtime/interp.js';
import { createMemory, instantiate, loadWasm } from '../../runtime/program.js';
import { asFault } from '../../runtime/fault.js';

export interface EngineResult {
  r0?: bigint;
  fault?: string;
  data: Uint8Array;
  stack: Uint8Array;
}

/** Helpers the conformance suite's programs may call: helper 5 and `callx` of helper 5. */
export const CONFORMANCE_HELPERS: HelperImports = {
  // The suite's test helper at id 5 returns its argument (its "unwind" only stops on 0).
  ktime_get_ns: (r1) => r1,
  callx: (id, r1) => {
    if (id === 5n) return r1;
    throw new Error(`callx to unknown helper ${id}`);
  },
};

export interface Prepared {
  program: Program;
  wasm: Uint8Array;
  run(engine: 'wasm' | 'interp', input: Uint8Array, budget?: number): EngineResult;
}

export function prepare(program: Program, optimize = 2, helpers: HelperImports = CONFORMANCE_HELPERS): Prepared {
  const { wasm, manifest } = compileObject(
    { source: program.name, license: '', maps: [], programs: [program] },
    { allowCallx: true, optimize, memorySafety: false },
  );
  const loaded = loadWasm(wasm, program.name);
  const layout = manifest.layout;
  const stackBase = layout.heapBase;
  const stackTop = stackBase + STACK_AREA;
  const dataAt = stackTop + 64;
  return {
    program,
    wasm,
    run(engine, input, budget = 1_000_000) {
      const memory = createMemory(layout);
      const bytes = new Uint8Array(memory.buffer);
      bytes.set(input, dataAt);
      const r1 = input.length ? dataAt : 0;
      const result: EngineResult = { data: new Uint8Array(0), stack: new Uint8Array(0) };
      try {
        if (engine === 'wasm') {
          const inst = instantiate(loaded, memory, helpers, { cpu: 0, stackTop, budget, preciseClock: true });
          result.r0 = inst.run(program.name, r1, input.length);
        } else {
          const interp = new Interpreter({ memory, helpers, placements: [], programs: [program], stackTop, budget });
          result.r0 = interp.run(program, BigInt(r1), BigInt(input.length));
        }
      } catch (e) {
        result.fault = asFault(e).message;
      }
      const after = new Uint8Array(memory.buffer);
      result.data = after.slice(dataAt, dataAt + input.length);
      result.stack = after.slice(stackBase, stackTop);
      return result;
    },
  };
}
