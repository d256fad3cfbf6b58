// Global (non-static) functions, as the kernel treats them: verified once on their own,
// from arguments typed by their BTF signature (a scalar, the context, or a pointer to
// memory of the pointee's size that may be NULL); a call only checks that each argument
// fits its type, and gives back an unknown scalar. What the caller's state knows does not
// flow in, and what the function does does not flow out.

import type { GlobalFunc } from '../../core/model.js';
import type { Insn } from '../../core/isa.js';
import type { Env } from './env.js';
import { helperMem } from './helpers.js';
import { reject } from './problem.js';
import { NOT_INIT, T, TYPE_NAME, UNKNOWN_SCALAR, isKnownZero, isOrNull, nonNullType, pointer, regWith, type Reg } from './reg.js';
import type { State } from './state.js';

/** A signature the kernel refuses: the reason, else undefined. */
export function signatureProblem(g: GlobalFunc): string | undefined {
  if (g.unsupported) return g.unsupported;
  if (g.args.length > 5) return `too many arguments (${g.args.length}; at most 5)`;
  for (const a of g.args) if (a.kind === 'unsupported') return a.reason;
  return undefined;
}

/** Check a call's arguments against the signature (btf_check_func_arg_match). */
export function checkGlobalCall(env: Env, st: State, insn: Insn, name: string, g: GlobalFunc): void {
  const problem = signatureProblem(g);
  if (problem !== undefined) reject(insn, `${problem} (global function ${name})`);
  const regs = st.cur.regs;
  g.args.forEach((arg, i) => {
    const regno = i + 1;
    const reg = regs[regno]!;
    if (reg.type === T.NOT_INIT) reject(insn, `R${regno} !read_ok`);
    switch (arg.kind) {
      case 'scalar':
        if (reg.type !== T.SCALAR) reject(insn, `R${regno} is not a scalar`);
        return;
      case 'ctx':
        if (reg.type !== T.CTX) reject(insn, `arg#${i} expects pointer to ctx`);
        if (reg.off !== 0) reject(insn, `R${regno} has non-zero offset ${reg.off} to ctx`);
        return;
      case 'mem': {
        if (isKnownZero(reg)) return;
        // Checked as if not NULL; the callee checks for NULL itself.
        const asMem: Reg = isOrNull(reg) ? regWith(reg, { type: nonNullType(reg.type) }) : reg;
        if (asMem.type === T.SCALAR) reject(insn, `R${regno} type=${TYPE_NAME[asMem.type]} expected=fp, pkt, pkt_meta, map_value, mem`);
        helperMem(env, st, insn, regno, asMem, arg.size, false);
        // The callee may write the memory: stack bytes there become data.
        helperMem(env, st, insn, regno, asMem, arg.size, true);
        return;
      }
    }
  });
}

/** The registers a global function starts with: r1-r5 from its signature. */
export function globalEntryArgs(env: Env, g: GlobalFunc): Reg[] {
  const args: Reg[] = [NOT_INIT, NOT_INIT, NOT_INIT, NOT_INIT, NOT_INIT];
  g.args.forEach((arg, i) => {
    if (arg.kind === 'scalar') args[i] = UNKNOWN_SCALAR;
    else if (arg.kind === 'ctx') args[i] = pointer(T.CTX);
    else if (arg.kind === 'mem') args[i] = pointer(T.MEM_OR_NULL, { n: arg.size, id: env.newId() });
  });
  return args;
}
