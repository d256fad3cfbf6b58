// Verifying the programs of an object, apart from code generation: what codegen needs from
// the verifier, per program, as plain data (structured-cloneable), so that verification can
// run in a worker thread while the main thread loads binaryen. This module must not import
// binaryen (compiler/codegen*.ts).

import type { HelperInfo } from '../core/helper-ids.js';
import type { BpfObject, Program } from '../core/model.js';
import { VerifyError } from '../core/errors.js';
import { verify, type MapLookupShape } from './verifier/index.js';
import { budgetedBackEdges } from './loop-budget.js';

/** What the verifier proved about one program that codegen and the manifest use. */
export interface ProgramFacts {
  helpersUsed: number[];
  budgetedBackEdges: number[];
  constantLoads?: ReadonlyMap<number, bigint>;
  stackLocals?: ReadonlyMap<number, number>;
  lookupShapes?: ReadonlyMap<number, MapLookupShape>;
  addressCompares?: ReadonlyMap<number, number>;
}

/** By program name. */
export type VerifiedFacts = Map<string, ProgramFacts>;

export interface VerifyOptions {
  allowCallx?: boolean;
  extraHelpers?: ReadonlyMap<number, HelperInfo>;
  memorySafety?: boolean;
}

/** Verifies each program; throws the first program's VerifyError (with its C source line). */
export function verifyPrograms(obj: BpfObject, programs: readonly Program[], opts: VerifyOptions = {}): VerifiedFacts {
  const facts: VerifiedFacts = new Map();
  for (const prog of programs) {
    const result = withSourceLine(prog, () =>
      verify(prog, obj.maps, { allowCallx: opts.allowCallx, extraHelpers: opts.extraHelpers, memorySafety: opts.memorySafety }),
    );
    facts.set(prog.name, {
      helpersUsed: [...result.helpersUsed].sort((a, b) => a - b),
      budgetedBackEdges: budgetedBackEdges(prog, result),
      constantLoads: result.constantLoads,
      stackLocals: result.stackLocals,
      lookupShapes: result.lookupShapes,
      addressCompares: result.addressCompares,
    });
  }
  return facts;
}

/** A rejection also names the C source line (from .BTF.ext line_info) nearest before it. */
function withSourceLine<T>(prog: Program, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof VerifyError) || !prog.lines) throw e;
    let line: string | undefined;
    for (let pc = e.pc; pc >= 0 && line === undefined; pc--) line = prog.lines.get(pc);
    if (!line) throw e;
    throw new VerifyError(e.program, e.pc, e.insnText, `${e.reason} [${line}]`);
  }
}
