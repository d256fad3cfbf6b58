// The signatures of global (non-static) functions, from BTF, as the kernel reads them
// (btf_prepare_func_args): it verifies such a function once, on its own, with arguments
// typed from these, and its callers only see an unknown scalar come back.

import { type Btf, KIND } from './btf.js';
import type { GlobalArg, GlobalFunc } from '../core/model.js';

/** The kernel's context struct for XDP programs; a pointer to it is the context. */
const CTX_STRUCTS: ReadonlySet<string> = new Set(['xdp_md']);

/** `name`'s signature when BTF declares it a global function, else undefined (static). */
export function globalSignature(btf: Btf | undefined, name: string): GlobalFunc | undefined {
  const fn = btf?.types.find((t) => t && t.kind === KIND.FUNC && t.name === name);
  if (!btf || !fn || fn.linkage !== 1) return undefined;
  const proto = btf.get(fn.sizeOrType);
  if (proto.kind !== KIND.FUNC_PROTO) return { args: [], unsupported: `${name}() has no function prototype in BTF` };
  const ret = btf.resolve(proto.sizeOrType);
  const unsupported = isScalarKind(ret.kind) ? undefined : `Global function ${name}() doesn't return scalar. Only those are supported.`;
  const args = (proto.params ?? []).map((p, i) => argOf(btf, p.type, i));
  return unsupported === undefined ? { args } : { args, unsupported };
}

const isScalarKind = (kind: number): boolean => kind === KIND.INT || kind === KIND.ENUM || kind === KIND.ENUM64;

function argOf(btf: Btf, type: number, index: number): GlobalArg {
  const t = btf.resolve(type);
  if (isScalarKind(t.kind)) return { kind: 'scalar' };
  if (t.kind !== KIND.PTR) return { kind: 'unsupported', reason: `arg#${index} type is not a scalar or a pointer` };
  const target = btf.resolve(t.sizeOrType);
  if (target.kind === KIND.STRUCT && CTX_STRUCTS.has(target.name)) return { kind: 'ctx' };
  try {
    const size = btf.sizeOf(t.sizeOrType);
    if (size > 0) return { kind: 'mem', size };
  } catch {
    // No size (void, a forward declaration, a function): refused below.
  }
  return { kind: 'unsupported', reason: `arg#${index} reference type('${btf.typeName(t.sizeOrType)}') size cannot be determined` };
}
