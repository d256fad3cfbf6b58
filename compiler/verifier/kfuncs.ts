// The argument checks of the kfuncs bpf2wasm runs (core/kfuncs.ts), as the kernel's
// check_kfunc_args makes them for these prototypes: the first argument is the context,
// unmodified; each other is a pointer to a scalar the kfunc writes, so it must not be NULL
// (nor possibly NULL) and must point at writable memory of the pointee's BTF size (stack,
// packet, map value...), checked as a helper's memory argument is (check_mem_reg).

import type { KfuncInfo } from '../../core/kfuncs.js';
import type { Insn } from '../../core/isa.js';
import type { Env } from './env.js';
import { helperMem } from './helpers.js';
import { reject } from './problem.js';
import { T, TYPE_NAME, isKnownZero, type Reg } from './reg.js';
import type { State } from './state.js';

const MAYBE_NULL: ReadonlySet<T> = new Set([T.MAP_VALUE_OR_NULL, T.MAP_PTR_OR_NULL, T.MEM_OR_NULL]);

export function checkKfuncArgs(env: Env, st: State, insn: Insn, kfunc: KfuncInfo): void {
  const regs = st.cur.regs;
  const read = (r: number): Reg => {
    const v = regs[r]!;
    if (v.type === T.NOT_INIT) reject(insn, `R${r} !read_ok`);
    return v;
  };
  const ctx = read(1);
  if (ctx.type !== T.CTX) reject(insn, `arg#0 expected pointer to ctx, but got ${TYPE_NAME[ctx.type]}`);
  if (ctx.off !== 0) reject(insn, `dereference of modified ctx ptr R1 off=${ctx.off} disallowed`);
  kfunc.outputs.forEach((size, index) => {
    const r = index + 2;
    const reg = read(r);
    if (isKnownZero(reg) || MAYBE_NULL.has(reg.type)) reject(insn, `Possibly NULL pointer passed to trusted arg${index + 1}`);
    helperMem(env, st, insn, r, reg, size, true);
  });
}
