// Verifier, step 3: a forward dataflow over each function's basic blocks (worklist, meet =
// "holds on every path") that rejects reads of uninitialised registers and of
// uninitialised stack bytes, stack accesses outside the 512-byte frame, and calls of
// unknown helpers. Stack pointers are tracked as r10 + constant through moves, add/sub of
// constants and 8-byte spills; accesses through other pointers are not checked.
//
// Deliberately NOT tracked: pointer types, packet bounds, map-value bounds, NULL checks.
// The kernel needs them to keep a program from touching kernel memory; here every access
// is a wasm linear-memory access, which the wasm sandbox bounds, so a wrong program can
// only fault or corrupt its own memory (see docs/abi.md).

import { KFUNC_BY_ID } from '../../core/kfuncs.js';
import { HELPER_BY_ID, HELPER_ID } from '../../core/helper-ids.js';
import {
  ALU,
  ATOMIC,
  CALL_KIND,
  CLASS,
  JMP,
  MODE,
  PSEUDO,
  aluOp,
  insnClass,
  isRegSource,
  jmpOp,
  memMode,
  sizeBytes,
  type Insn,
} from '../../core/isa.js';
import { MAP_TYPE } from '../../core/map-types.js';
import type { MapSpec } from '../../core/model.js';
import { atomicWritesSrc } from './encoding.js';
import type { FunctionFlow } from './flow.js';
import { reject } from './problem.js';
import { INIT, Kind, STACK_SIZE, State, UNINIT, constant, mapHandle, stackPointer, type Value } from './structure-state.js';

export interface HelperSpec {
  name: string;
  /** Argument registers the helper reads (r1..rN). */
  args: number;
}

export interface DataflowContext {
  insns: readonly Insn[];
  maps: readonly MapSpec[];
  helpers: ReadonlyMap<number, HelperSpec>;
}

export interface FunctionFacts {
  /** Deepest byte below r10 the function touches (0 when it uses no stack). */
  stackDepth: number;
  helpersUsed: Set<number>;
}

/** Helpers that take a variable number of arguments: registers they must have set. */
const VARIADIC_MIN_ARGS: ReadonlyMap<number, number> = new Map([[HELPER_ID.trace_printk!, 2]]);

/** sizeof(struct bpf_dynptr). */
const DYNPTR_SIZE = 16;

const MAP_OF_MAPS: ReadonlySet<number> = new Set([MAP_TYPE.ARRAY_OF_MAPS, MAP_TYPE.HASH_OF_MAPS]);

export function analyseFunction(fn: FunctionFlow, ctx: DataflowContext): FunctionFacts {
  const facts: FunctionFacts = { stackDepth: 0, helpersUsed: new Set() };
  const inStates: (State | undefined)[] = fn.blocks.map(() => undefined);
  inStates[0] = State.entry();
  const queued = new Uint8Array(fn.blocks.length);
  const worklist = [0];
  queued[0] = 1;
  while (worklist.length > 0) {
    const b = worklist.pop()!;
    queued[b] = 0;
    const block = fn.blocks[b]!;
    const state = inStates[b]!.clone();
    for (let pos = block.first; pos < block.end; pos++) step(state, ctx.insns[pos]!, ctx, facts);
    for (const s of block.succs) {
      const known = inStates[s];
      const changed = known === undefined ? ((inStates[s] = state.clone()), true) : known.joinFrom(state);
      if (changed && !queued[s]) {
        queued[s] = 1;
        worklist.push(s);
      }
    }
  }
  return facts;
}

/** Check one instruction against `state` and apply its effect. */
function step(state: State, insn: Insn, ctx: DataflowContext, facts: FunctionFacts): void {
  const op = insn.opcode;
  const regs = state.regs;
  const read = (r: number): Value => {
    const v = regs[r]!;
    if (v.kind === Kind.Uninit) {
      const hint = r >= 1 && r <= 5 ? ' (calls clobber r1-r5)' : '';
      reject(insn, `r${r} is read before it is initialised on some path${hint}`);
    }
    return v;
  };
  /** Bounds-check a stack access at r10 + offset and note the frame depth it needs. */
  const frameAccess = (offset: number, size: number, what: string): void => {
    if (offset < -STACK_SIZE || offset + size > 0) {
      reject(
        insn,
        `${what} at r10${offset < 0 ? '' : '+'}${offset} (${size} byte${size === 1 ? '' : 's'}) is outside the stack frame [r10-${STACK_SIZE}, r10)`,
      );
    }
    facts.stackDepth = Math.max(facts.stackDepth, -offset);
  };
  const readStack = (offset: number, size: number, what: string): void => {
    frameAccess(offset, size, what);
    const bad = state.firstUninitialised(offset, size);
    if (bad !== undefined) reject(insn, `${what} reads uninitialised stack at r10${bad}`);
  };

  switch (insnClass(op)) {
    case CLASS.ALU:
    case CLASS.ALU64:
      regs[insn.dst] = alu(insn, read);
      return;
    case CLASS.JMP:
    case CLASS.JMP32: {
      const j = jmpOp(op);
      if (j === JMP.EXIT) {
        read(0);
      } else if (j === JMP.CALL) {
        call(state, insn, ctx, facts, read, readStack, frameAccess);
      } else if (j !== JMP.JA) {
        read(insn.dst);
        if (isRegSource(op)) read(insn.src);
      }
      return;
    }
    case CLASS.LD: // lddw (encoding checks allow nothing else)
      regs[insn.dst] = loadImm64(insn, ctx.maps);
      return;
    case CLASS.LDX: {
      const base = read(insn.src);
      let value: Value = INIT;
      if (base.kind === Kind.Stack) {
        const offset = base.n + insn.off;
        const size = sizeBytes(op);
        readStack(offset, size, 'load');
        if (size === 8 && memMode(op) === MODE.MEM) value = state.spilled(offset) ?? INIT;
      }
      regs[insn.dst] = value;
      return;
    }
    case CLASS.ST:
    case CLASS.STX: {
      const base = read(insn.dst);
      const stx = insnClass(op) === CLASS.STX;
      const value = stx ? read(insn.src) : constant(insn.imm);
      const size = sizeBytes(op);
      if (memMode(op) === MODE.ATOMIC) {
        if (insn.imm === ATOMIC.CMPXCHG) read(0);
        if (base.kind === Kind.Stack) {
          readStack(base.n + insn.off, size, 'atomic operation');
          state.write(base.n + insn.off, size);
        }
        if (insn.imm === ATOMIC.CMPXCHG) regs[0] = INIT;
        else if (atomicWritesSrc(insn)) regs[insn.src] = INIT;
        return;
      }
      if (base.kind === Kind.Stack) {
        const offset = base.n + insn.off;
        frameAccess(offset, size, 'store');
        state.write(offset, size);
        if (size === 8 && value.kind !== Kind.Init) state.spill(offset, value);
      }
      return;
    }
  }
}

function alu(insn: Insn, read: (r: number) => Value): Value {
  const op = aluOp(insn.opcode);
  const is64 = insnClass(insn.opcode) === CLASS.ALU64;
  const x = isRegSource(insn.opcode);
  if (op === ALU.NEG || op === ALU.END) {
    read(insn.dst);
    return INIT;
  }
  const source = x ? read(insn.src) : constant(is64 ? insn.imm : insn.imm >>> 0);
  if (op === ALU.MOV) {
    if (insn.off !== 0) return INIT; // movsx
    if (is64) return source;
    return source.kind === Kind.Const ? constant(Number(BigInt.asUintN(32, BigInt(source.n)))) : INIT;
  }
  const dst = read(insn.dst);
  if (!is64 || (op !== ALU.ADD && op !== ALU.SUB)) return INIT;
  const sign = op === ALU.ADD ? 1 : -1;
  if (source.kind === Kind.Const) {
    if (dst.kind === Kind.Stack) return stackPointer(dst.n + sign * source.n);
    if (dst.kind === Kind.Const) return constant(dst.n + sign * source.n);
  }
  if (op === ALU.ADD && dst.kind === Kind.Const && source.kind === Kind.Stack) return stackPointer(source.n + dst.n);
  return INIT;
}

function loadImm64(insn: Insn, maps: readonly MapSpec[]): Value {
  switch (insn.src) {
    case PSEUDO.MAP_IDX:
      return mapHandle(maps[insn.imm]!);
    case PSEUDO.NONE: {
      const v = BigInt.asIntN(64, insn.imm64 ?? BigInt(insn.imm));
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? constant(Number(v)) : INIT;
    }
  }
  return INIT; // map value address, function address
}

/** A helper, local call or callx: argument checks, stack effects, clobbers. */
function call(
  state: State,
  insn: Insn,
  ctx: DataflowContext,
  facts: FunctionFacts,
  read: (r: number) => Value,
  readStack: (offset: number, size: number, what: string) => void,
  frameAccess: (offset: number, size: number, what: string) => void,
): void {
  const regs = state.regs;
  let result: Value = INIT;
  if (isRegSource(insn.opcode)) {
    read(insn.dst); // callx: the helper id is in dst; which arguments it reads is unknown
  } else if (insn.src === CALL_KIND.LOCAL) {
    // The callee may fill memory its pointer arguments point at; without following it we
    // assume it may write from the pointed-to byte up to the top of our frame.
    for (let r = 1; r <= 5; r++) {
      const v = regs[r]!;
      if (v.kind === Kind.Stack && v.n < 0) {
        frameAccess(v.n, 1, `stack pointer argument r${r}`);
        state.write(v.n, -v.n);
      }
    }
  } else if (insn.src === CALL_KIND.KFUNC) {
    // A kfunc's outputs (core/kfuncs.ts) are written by it when it succeeds; so are a new
    // dynptr and a slice's buffer.
    const kfunc = KFUNC_BY_ID.get(insn.imm);
    if (kfunc === undefined) reject(insn, `unknown kfunc id ${insn.imm}`);
    for (let r = 1; r <= kfunc.args; r++) read(r);
    const writes = (r: number, size: number): void => {
      const v = regs[r]!;
      if (v.kind !== Kind.Stack) return;
      frameAccess(v.n, size, `${kfunc.name} argument r${r}`);
      state.write(v.n, size);
    };
    kfunc.outputs.forEach((size, index) => writes(index + 2, size));
    if (kfunc.name === 'bpf_dynptr_from_xdp') writes(3, DYNPTR_SIZE);
    if (kfunc.name === 'bpf_dynptr_clone') writes(2, DYNPTR_SIZE);
    const size = regs[4]!;
    if (kfunc.name.startsWith('bpf_dynptr_slice') && size.kind === Kind.Const && size.n > 0) writes(3, size.n);
  } else {
    const helper = ctx.helpers.get(insn.imm);
    if (helper === undefined) reject(insn, `unknown helper id ${insn.imm}`);
    facts.helpersUsed.add(insn.imm);
    const args = Math.min(helper.args, VARIADIC_MIN_ARGS.get(insn.imm) ?? helper.args);
    for (let r = 1; r <= args; r++) {
      const v = read(r);
      if (v.kind === Kind.Stack) frameAccess(v.n, 1, `${helper.name} argument r${r}`);
    }
    result = helperStackEffects(insn.imm, state, readStack, frameAccess);
  }
  regs[0] = result;
  for (let r = 1; r <= 5; r++) regs[r] = UNINIT;
}

/**
 * Stack memory a helper reads (map keys and values: must be initialised) or writes (marks
 * it initialised), when the map is known. Returns what r0 holds afterwards.
 */
function helperStackEffects(
  id: number,
  state: State,
  readStack: (offset: number, size: number, what: string) => void,
  frameAccess: (offset: number, size: number, what: string) => void,
): Value {
  const regs = state.regs;
  const map = regs[1]!.kind === Kind.Map ? regs[1]!.map : undefined;
  const stackArg = (r: number): number | undefined => (regs[r]!.kind === Kind.Stack ? regs[r]!.n : undefined);
  const reads = (r: number, size: number, what: string): void => {
    const at = stackArg(r);
    if (at !== undefined && map) readStack(at, size, `${what} of map '${map.name}' (r${r})`);
  };
  const writes = (r: number, size: number | undefined, what: string): void => {
    const at = stackArg(r);
    if (at === undefined || size === undefined) return;
    frameAccess(at, size, `${what} (r${r})`);
    state.write(at, size);
  };
  switch (id) {
    case HELPER_ID.map_lookup_elem:
    case HELPER_ID.map_lookup_percpu_elem:
      reads(2, map?.keySize ?? 0, 'key');
      // A lookup in a map of maps yields an inner map handle (or NULL).
      if (map && MAP_OF_MAPS.has(map.type) && map.inner && id === HELPER_ID.map_lookup_elem) return mapHandle(map.inner);
      return INIT;
    case HELPER_ID.map_delete_elem:
      reads(2, map?.keySize ?? 0, 'key');
      return INIT;
    case HELPER_ID.map_update_elem:
      reads(2, map?.keySize ?? 0, 'key');
      if (!map || !MAP_OF_MAPS.has(map.type)) reads(3, map?.valueSize ?? 0, 'value');
      return INIT;
    case HELPER_ID.map_push_elem:
      reads(2, map?.valueSize ?? 0, 'value');
      return INIT;
    case HELPER_ID.map_pop_elem:
    case HELPER_ID.map_peek_elem:
      writes(2, map?.valueSize, `value of map '${map?.name}'`);
      return INIT;
    case HELPER_ID.dynptr_read: {
      const len = regs[2]!;
      writes(1, len.kind === Kind.Const && len.n > 0 ? len.n : undefined, 'dynptr_read buffer');
      return INIT;
    }
    case HELPER_ID.xdp_load_bytes: {
      const len = regs[4]!;
      writes(3, len.kind === Kind.Const && len.n > 0 ? len.n : undefined, 'xdp_load_bytes buffer');
      return INIT;
    }
  }
  return INIT;
}

/** Known helpers: the ABI's list plus the caller's extras. */
export function helperTable(extra?: ReadonlyMap<number, HelperSpec>): ReadonlyMap<number, HelperSpec> {
  if (!extra || extra.size === 0) return HELPER_BY_ID;
  return new Map<number, HelperSpec>([...HELPER_BY_ID, ...extra]);
}
