// Map lookup keys on the stack, planned for codegen per basic block. Two facts per
// map_lookup_elem with r2 = r10 + off: which store of the block wrote each key byte last (so
// that an inlined hash lookup loads the key along those stores, codegen-map-lookup.ts
// splitLoad), and whether the key is four bytes the block wrote with a known constant.
// Programs look their array maps up at fixed indices all the time — katran's ctl_array at
// 0, its stats at MAX_VIPS + n: `r1 = 528; *(u32 *)(r10 - 124) = r1; r2 = r10; r2 += -124;
// r1 = map; call 1` — and codegen turns such a lookup of a statically placed array into the
// element's address, or NULL past the end (codegen.ts inlineArrayLookup), with nothing read
// back from the stack and no bounds check; the program's own NULL test then folds away.
//
// The kernel's verifier does not know these keys (a 4-byte store at r10 - 124 is not at a
// slot boundary, so it is no spill), hence a plan of its own, local and conservative: a
// register is known only after a mov of an immediate (or a copy of a known register) in
// the block, a stack pointer only as r10 plus immediates; a store through any other
// register (it may point into the stack), an atomic operation or a call forgets every
// stack byte known.

import {
  ALU,
  CALL_KIND,
  CLASS,
  MODE,
  aluOp,
  insnClass,
  isCall,
  isCondJmp,
  isJa,
  isLdImm64,
  isRegSource,
  memMode,
  sizeBytes,
  type Insn,
} from '../core/isa.js';
import { HELPER_ID } from '../core/helper-ids.js';

const FRAME_POINTER = 10;

/** What the block knows of a register: a constant (as u64), or r10 plus an offset. */
type Known = { kind: 'const'; value: bigint } | { kind: 'stack'; off: number };

/** The u32 key of each map_lookup_elem call (by pc) of `insns[first..end)` whose key the block wrote as a constant. */
export function planConstantKeys(insns: readonly Insn[], first: number, end: number): Map<number, number> {
  return planBlockKeys(insns, first, end).constants;
}

/** Key bytes looked at for their stores: the longest key whose loads are split along them. */
export const KEY_STORES_MAX = 64;

export interface BlockKeys {
  /** map_lookup_elem calls (by pc) whose key the block wrote as a constant: the u32 key. */
  constants: Map<number, number>;
  /**
   * map_lookup_elem calls (by pc) with a key on the stack: for each of its first
   * KEY_STORES_MAX bytes, the slot of the store of this block that wrote it last, or
   * undefined (written before the block). A load of key bytes from two or more stores
   * waits for them to reach the cache (no store-to-load forwarding); loads split along
   * these stores are each forwarded (codegen-map-lookup.ts).
   */
  stores: Map<number, (number | undefined)[]>;
}

/** What the block knows of each map_lookup_elem's key (see BlockKeys). */
export function planBlockKeys(insns: readonly Insn[], first: number, end: number): BlockKeys {
  const keys = new Map<number, number>();
  const stores = new Map<number, (number | undefined)[]>();
  const regs = new Map<number, Known>([[FRAME_POINTER, { kind: 'stack', off: 0 }]]);
  /** Stack bytes (offset from r10) this block wrote with a known value. */
  let bytes = new Map<number, number>();
  /** Stack bytes (offset from r10) this block wrote: the slot of the store. */
  let writers = new Map<number, number>();
  for (let p = first; p < end; p++) {
    const insn = insns[p]!;
    const op = insn.opcode;
    if (isJa(op) || isCondJmp(op)) break;
    const cls = insnClass(op);
    if (isCall(op)) {
      if (insn.src === CALL_KIND.HELPER && insn.imm === HELPER_ID.map_lookup_elem) {
        const r2 = regs.get(2);
        const key = constantAt(r2, bytes);
        if (key !== undefined) keys.set(insn.pc, key);
        if (r2?.kind === 'stack')
          stores.set(
            insn.pc,
            Array.from({ length: KEY_STORES_MAX }, (_, b) => writers.get(r2.off + b)),
          );
      }
      for (let r = 0; r <= 5; r++) regs.delete(r);
      bytes = new Map(); // a helper or a callee may write the stack through a pointer
      writers = new Map();
      continue;
    }
    if (cls === CLASS.ST || cls === CLASS.STX) {
      const base = regs.get(insn.dst);
      if (memMode(op) !== MODE.MEM || base?.kind !== 'stack') {
        bytes = new Map();
        writers = new Map();
        // An atomic operation may write its source register (fetch) or r0 (cmpxchg).
        if (memMode(op) === MODE.ATOMIC) for (const r of [0, insn.src]) regs.delete(r);
        continue;
      }
      const size = sizeBytes(op);
      const src = cls === CLASS.ST ? BigInt(insn.imm) : constantOf(regs.get(insn.src));
      for (let b = 0; b < size; b++) {
        const at = base.off + insn.off + b;
        writers.set(at, insn.pc);
        if (src === undefined) bytes.delete(at);
        else bytes.set(at, Number((BigInt.asUintN(64, src) >> BigInt(8 * b)) & 0xffn));
      }
      continue;
    }
    if (isLdImm64(op)) {
      if (insn.src === 0 && insn.imm64 !== undefined) regs.set(insn.dst, { kind: 'const', value: BigInt.asUintN(64, insn.imm64) });
      else regs.delete(insn.dst);
      continue;
    }
    if ((cls === CLASS.ALU64 || cls === CLASS.ALU) && insn.off === 0) {
      const next = aluResult(insn, regs);
      if (next === undefined) regs.delete(insn.dst);
      else regs.set(insn.dst, next);
      continue;
    }
    if (cls === CLASS.LDX || cls === CLASS.ALU || cls === CLASS.ALU64) {
      regs.delete(insn.dst);
      continue;
    }
    // Anything else (an unusual load): forget, rather than reason about it.
    regs.clear();
    regs.set(FRAME_POINTER, { kind: 'stack', off: 0 });
    bytes = new Map();
    writers = new Map();
  }
  return { constants: keys, stores };
}

const constantOf = (k: Known | undefined): bigint | undefined => (k?.kind === 'const' ? k.value : undefined);

/** What dst holds after an ALU instruction, where the block can tell: mov of a known value, r10-based pointer plus an immediate. */
function aluResult(insn: Insn, regs: ReadonlyMap<number, Known>): Known | undefined {
  const op = insn.opcode;
  const wide = insnClass(op) === CLASS.ALU64;
  const source = isRegSource(op) ? regs.get(insn.src) : { kind: 'const' as const, value: BigInt.asUintN(64, BigInt(insn.imm)) };
  if (aluOp(op) === ALU.MOV) {
    if (wide) return source;
    const value = constantOf(source);
    return value === undefined ? undefined : { kind: 'const', value: BigInt.asUintN(32, value) };
  }
  const dst = regs.get(insn.dst);
  if (wide && aluOp(op) === ALU.ADD && !isRegSource(op) && dst?.kind === 'stack') return { kind: 'stack', off: dst.off + insn.imm };
  return undefined;
}

/** The u32 at the stack offset `key` points to, if the block wrote all four bytes as constants. */
function constantAt(key: Known | undefined, bytes: ReadonlyMap<number, number>): number | undefined {
  if (key?.kind !== 'stack') return undefined;
  let value = 0;
  for (let b = 3; b >= 0; b--) {
    const byte = bytes.get(key.off + b);
    if (byte === undefined) return undefined;
    value = value * 256 + byte;
  }
  return value;
}
