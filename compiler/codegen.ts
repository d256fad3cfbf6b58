// Translation of verified eBPF functions to WebAssembly. The only file that speaks
// binaryen. Registers are i64 locals; control flow goes through binaryen's Relooper;
// memory accesses are plain loads/stores on the shared linear memory (the sandbox bounds
// them); helpers are imports named in abi.ts. Kernel semantics that wasm lacks (division
// by zero, INT_MIN / -1, byte swaps) are spelled out here.

import { KFUNC_BY_ID } from '../core/kfuncs.js';
import binaryen from './binaryen.js';
import {
  ALU,
  ATOMIC,
  CALL_KIND,
  CLASS,
  type Insn,
  JMP,
  MODE,
  PSEUDO,
  SIZE,
  aluOp,
  disasm,
  insnClass,
  isCall,
  isCondJmp,
  isExit,
  isJa,
  isLdImm64,
  isRegSource,
  jmpOp,
  memMode,
  memSize,
} from '../core/isa.js';
import {
  BATCH_SUFFIX,
  CALLX_IMPORT,
  ENTRY32_SUFFIX,
  ENV_MODULE,
  I32_HELPERS,
  type I32HelperSig,
  FAULT,
  FAULT_IMPORT,
  HELPER_MODULE,
  INIT_EXPORT,
  MEMORY_IMPORT,
  type MapPlacement,
  type MemoryLayout,
  STACK_FRAME,
} from '../core/abi.js';
import { HELPER_BY_ID, HELPER_ID } from '../core/helper-ids.js';
import { isArrayLike, isPerCpu } from '../core/map-types.js';
import type { MapSpec, Program } from '../core/model.js';
import { buildCfg, type Block, type FunctionCfg } from './cfg.js';
import { unrollLoops } from './unroll.js';
import { type Predecessors, predecessorOperands } from './bounds-check.js';
import { UserError } from '../core/errors.js';
import { type Callable, callableName, callableTable } from '../core/callables.js';
import { addHashLookup, addHashUpdate } from './codegen-maps.js';
import { hasSpecialisedLookup, inlineLookup, specialisedLookup, type KeyStores, type LookupLocals } from './codegen-map-lookup.js';
import type { MapLookupShape } from './verifier/index.js';
import {
  addAdjustHead,
  addAdjustMeta,
  addAdjustTail,
  addCsumDiff,
  addKtime,
  addPrandom,
  inlineAdjustHead,
  WASM_HELPER,
  type AdjustHeadLocals,
} from './codegen-helpers.js';
import { addBatchDriver, batchEffects, ALL_BATCH_EFFECTS, type BatchEffects } from './codegen-batch.js';
import { planBlockForwarding, type BlockForwarding, type ForwardPiece } from './store-forward.js';
import { planBlockKeys } from './constant-keys.js';

export interface CodegenInput {
  programs: readonly Program[];
  maps: readonly MapSpec[];
  placements: readonly MapPlacement[];
  layout: MemoryLayout;
  /** Per program, the slots of the jumps whose taken back-edge checks the loop budget (loop-budget.ts); all when absent. */
  budgetedBackEdges?: ReadonlyMap<Program, ReadonlySet<number>>;
  /** Per program, loads and stores of 8-byte stack slots kept in wasm locals: instruction slot -> stack slot (verifier/stack-locals.ts). */
  stackLocals?: ReadonlyMap<Program, ReadonlyMap<number, number>>;
  /** Per program, loads the verifier proved constant (read-only map data: .rodata), by slot, as u64. */
  constantLoads?: ReadonlyMap<Program, ReadonlyMap<number, bigint>>;
  /** Per program, the shape (type, key size) of the map each map_lookup_elem looks up, by pc, where the verifier found one. */
  lookupShapes?: ReadonlyMap<Program, ReadonlyMap<number, MapLookupShape>>;
  /** Per program, 64-bit register compares with operands the verifier found to be packet addresses (never 0), by pc: ADDRESS_DST | ADDRESS_SRC. */
  addressCompares?: ReadonlyMap<Program, ReadonlyMap<number, number>>;
  /** binaryen optimisation level 0..4 (3 = -O3); shrink level follows -Os/-Oz conventions. */
  optimize: number;
  shrink?: number;
  /**
   * The helpers the module's programs call, when each was verified memory-safe (none writes
   * its context): the batch driver then resets and copies back per packet only what those
   * helpers change (codegen-batch.ts). Absent: everything, per packet.
   */
  helpersUsed?: ReadonlySet<number>;
  /** Custom sections to embed (the manifest). */
  customSections?: { name: string; data: Uint8Array }[];
  /** Also render the module as text (for --wat). */
  wantText?: boolean;
}

export interface CodegenOutput {
  binary: Uint8Array;
  text?: string;
}

const i64 = binaryen.i64;
const i32 = binaryen.i32;
const none = binaryen.none;

/** Internal function signature: (r1, r2, r3, r4, r5, r10) -> r0. */
const INTERNAL_PARAMS = binaryen.createType([i64, i64, i64, i64, i64, i64]);
const HELPER_PARAMS = binaryen.createType([i64, i64, i64, i64, i64]);
const CALLX_PARAMS = binaryen.createType([i64, i64, i64, i64, i64, i64]);

// Local indices inside internal functions.
const LOCAL_R10 = 5;
const LOCAL_R0 = 6;
const LOCAL_R6 = 7; // r6..r9 -> 7..10
const LOCAL_T0 = 11;
const LOCAL_T1 = 12;
const LOCAL_LABEL = 13;
const LOCAL_I = 14; // bpf_loop counter
/**
 * Specialised map lookups inlined at their call per function (codegen-map-lookup.ts
 * inlineLookup); calls after these go to the shape's function, so that a program with
 * very many lookups does not grow without bound.
 */
const INLINE_LOOKUPS_PER_FUNCTION = 16;
// r0, r6..r9, t0, t1 (i64 at 6..12), the Relooper label (i32 at 13), the bpf_loop counter (i64 at 14).
const EXTRA_LOCALS = [i64, i64, i64, i64, i64, i64, i64, i32, i64];
/** Stack slots kept in locals (planSlotLocals) come after the parameters and EXTRA_LOCALS. */
const FIRST_SLOT_LOCAL = 6 + EXTRA_LOCALS.length;

const regLocal = (r: number): number => (r === 0 ? LOCAL_R0 : r <= 5 ? r - 1 : r <= 9 ? LOCAL_R6 + (r - 6) : LOCAL_R10);

const TABLE = 'callables';
const G_BUDGET = 'budget_left';
const G_BUDGET_LIMIT = 'budget_limit';
const G_STACK_TOP = 'stack_top';
const G_CPU = 'cpu';
/** The worker's XDP context block (abi.ts XDP_CTX) and bpf2wasm_init's flags. */
const G_XDP_CTX = 'xdp_ctx';
const G_FLAGS = 'init_flags';
/** bpf_loop: the kernel caps nr_loops at 1 << 23. */
const LOOP_MAX = 1 << 23;

/** Name of the wasm function implementing the function that starts at `start` in `prog`. */
const fnName = (program: Program, start: number): string => callableName({ program, start });

export function generate(input: CodegenInput): CodegenOutput {
  const m = new binaryen.Module();
  try {
    m.setFeatures(
      binaryen.Features.Atomics |
        binaryen.Features.MutableGlobals |
        binaryen.Features.SignExt |
        binaryen.Features.BulkMemory |
        binaryen.Features.BulkMemoryOpt |
        binaryen.Features.TailCall,
    );
    m.setMemory(input.layout.initialPages, input.layout.maxPages, null, [], true);
    m.addMemoryImport('0', ENV_MODULE, MEMORY_IMPORT, true);
    m.addFunctionImport(FAULT_IMPORT, ENV_MODULE, FAULT_IMPORT, binaryen.createType([i32, i32]), none);
    m.addGlobal(G_BUDGET, i32, true, m.i32.const(0));
    m.addGlobal(G_BUDGET_LIMIT, i32, true, m.i32.const(0x7fffffff));
    m.addGlobal(G_STACK_TOP, i64, true, m.i64.const(0));
    m.addGlobal(G_CPU, i32, true, m.i32.const(0));
    m.addGlobal(G_XDP_CTX, i32, true, m.i32.const(0));
    m.addGlobal(G_FLAGS, i32, true, m.i32.const(0));

    const gen = new FunctionGenerator(m, input);
    const tableFuncs = gen.indexTable(callableTable(input.programs));
    // A tail call may enter any program of the module, so the entry resets the budget
    // unless no program of the module has a budgeted back-edge.
    const budgeted = input.budgetedBackEdges;
    const resetsBudget = budgeted === undefined || input.programs.some((p) => (budgeted.get(p)?.size ?? 1) > 0);
    const effects = input.helpersUsed ? batchEffects(input.helpersUsed) : ALL_BATCH_EFFECTS;
    for (const prog of input.programs) {
      for (const fn of buildCfg(prog)) gen.emitFunction(prog, fn);
      emitEntry(m, prog, resetsBudget, effects);
    }
    m.addTable(TABLE, tableFuncs.length, tableFuncs.length);
    m.addActiveElementSegment(TABLE, 'callables_init', tableFuncs, m.i32.const(0));
    emitInit(m);
    for (const s of input.customSections ?? []) m.addCustomSection(s.name, s.data);

    if (!m.validate()) throw new Error('binaryen rejected the generated module (a bpf2wasm bug)');
    binaryen.setOptimizeLevel(Math.min(input.optimize, 4));
    binaryen.setShrinkLevel(input.shrink ?? 0);
    if (input.optimize > 0) m.optimize();
    return { binary: m.emitBinary(), text: input.wantText ? m.emitText() : undefined };
  } finally {
    m.dispose();
  }
}

/** The exported entry: (i32 r1, i32 r2) -> i64. Resets the loop budget (if any back-edge checks it), enters with r10 = stack top. */
function emitEntry(m: binaryen.Module, prog: Program, resetsBudget: boolean, effects: BatchEffects): void {
  const name = prog.name;
  /** The program's run on (r1, r2): the budget reset, then its first function with r10 = stack top. */
  const run = (r1: binaryen.ExpressionRef, r2: binaryen.ExpressionRef): binaryen.ExpressionRef =>
    m.block(
      null,
      [
        ...(resetsBudget ? [m.global.set(G_BUDGET, m.global.get(G_BUDGET_LIMIT, i32))] : []),
        m.call(
          fnName(prog, prog.funcs[0]?.start ?? 0),
          [m.i64.extend_u(r1), m.i64.extend_u(r2), m.i64.const(0), m.i64.const(0), m.i64.const(0), m.global.get(G_STACK_TOP, i64)],
          i64,
        ),
      ],
      i64,
    );
  const body = run(m.local.get(0, i32), m.local.get(1, i32));
  m.addFunction(`${name}$entry`, binaryen.createType([i32, i32]), i64, [], body);
  m.addFunctionExport(`${name}$entry`, name);
  const narrow = m.i32.wrap(m.call(`${name}$entry`, [m.local.get(0, i32), m.local.get(1, i32)], i64));
  m.addFunction(`${name}$entry32`, binaryen.createType([i32, i32]), i32, [], narrow);
  m.addFunctionExport(`${name}$entry32`, `${name}${ENTRY32_SUFFIX}`);
  addBatchDriver(m, `${name}$batch`, (ctx) => m.i32.wrap(run(ctx, m.i32.const(0))), G_XDP_CTX, effects);
  m.addFunctionExport(`${name}$batch`, `${name}${BATCH_SUFFIX}`);
}

/** bpf2wasm_init(cpu, stackTop, budget, xdpCtx, flags): per-instance settings (see abi.ts). */
function emitInit(m: binaryen.Module): void {
  const budget = m.local.get(2, i32);
  const body = m.block(null, [
    m.global.set(G_CPU, m.local.get(0, i32)),
    m.global.set(G_STACK_TOP, m.i64.extend_u(m.local.get(1, i32))),
    m.global.set(G_BUDGET_LIMIT, m.select(budget, m.local.get(2, i32), m.i32.const(0x7fffffff))),
    m.global.set(G_XDP_CTX, m.local.get(3, i32)),
    m.global.set(G_FLAGS, m.local.get(4, i32)),
  ]);
  m.addFunction(INIT_EXPORT, binaryen.createType([i32, i32, i32, i32, i32]), none, [], body);
  m.addFunctionExport(INIT_EXPORT, INIT_EXPORT);
}

class FunctionGenerator {
  /** Functions codegen-maps.ts added to this module, by name. */
  private readonly ownFunctions = new Set<string>();
  private readonly helperImports = new Set<string>();
  private callxImported = false;
  /** Table index of every callable (program main functions and callbacks), by wasm function name. */
  private readonly tableIndex = new Map<string, number>();

  constructor(
    private readonly m: binaryen.Module,
    private readonly input: CodegenInput,
  ) {}

  /** Index every callable in the wasm table (see callables.ts for the order). */
  indexTable(table: readonly Callable[]): string[] {
    const names = table.map(callableName);
    names.forEach((name, index) => this.tableIndex.set(name, index));
    return names;
  }

  /** The current function's stack slots kept in locals: instruction slot -> local index. */
  private slotLocal = new Map<number, number>();
  /** The current function's store-to-load forwarding, by block id (store-forward.ts). */
  private forwarding: BlockForwarding[] = [];
  /** Local index of the current function's first forwarding temporary. */
  private firstForwardLocal = 0;
  /** The block being emitted's forwarding plan. */
  private blockForwarding: BlockForwarding | undefined;
  /** The current function's i32 locals for lookups inlined at their call (codegen-map-lookup.ts inlineLookup). */
  private lookupLocals: LookupLocals = { handle: 0, key: 0, hash: 0, entry: 0, wide: 0 };
  /** The current function's i32 local holding r10 - STACK_FRAME, set on entry (address()). */
  private frameBaseLocal = 0;
  /** The current function's locals for xdp_adjust_head inlined at its call (codegen-helpers.ts inlineAdjustHead). */
  private adjustHeadLocals: AdjustHeadLocals = { delta: 0, ctx: 0, data: 0, meta: 0, metaLen: 0, next: 0, d: 0 };
  /** Lookups inlined so far in the current function. */
  private inlinedLookups = 0;
  /** The block being emitted's lookups at constant keys: call pc -> u32 key (constant-keys.ts). */
  private blockConstantKeys: ReadonlyMap<number, number> = new Map();
  /** The block being emitted's lookups with a key on the stack: call pc -> the store that wrote each key byte (constant-keys.ts). */
  private blockKeyStores: ReadonlyMap<number, KeyStores> = new Map();

  emitFunction(prog: Program, fn: FunctionCfg): void {
    const m = this.m;
    const extraLocals = this.planSlotLocals(prog, fn);
    this.forwarding = fn.blocks.map((block) => planBlockForwarding(prog.insns, block.first, block.end));
    this.firstForwardLocal = FIRST_SLOT_LOCAL + extraLocals.length;
    extraLocals.push(...new Array<binaryen.Type>(Math.max(0, ...this.forwarding.map((f) => f.temps))).fill(i64));
    const firstLookupLocal = FIRST_SLOT_LOCAL + extraLocals.length;
    this.lookupLocals = {
      handle: firstLookupLocal,
      key: firstLookupLocal + 1,
      hash: firstLookupLocal + 2,
      entry: firstLookupLocal + 3,
      wide: firstLookupLocal + 4,
    };
    this.inlinedLookups = 0;
    extraLocals.push(i32, i32, i32, i32, i64);
    // xdp_adjust_head inline: two i32 (the lookups' scratch, free between calls) and five i64.
    const firstAdjustLocal = FIRST_SLOT_LOCAL + extraLocals.length;
    this.adjustHeadLocals = {
      delta: firstLookupLocal,
      ctx: firstLookupLocal + 1,
      data: firstAdjustLocal,
      meta: firstAdjustLocal + 1,
      metaLen: firstAdjustLocal + 2,
      next: firstAdjustLocal + 3,
      d: firstAdjustLocal + 4,
    };
    extraLocals.push(i64, i64, i64, i64, i64);
    this.frameBaseLocal = FIRST_SLOT_LOCAL + extraLocals.length;
    extraLocals.push(i32);
    const relooper = new binaryen.Relooper(m);
    // Node ids are positions in nodes (node 0 the entry), so they index refs; a block is never empty.
    const budgeted = (pc: number): boolean => this.input.budgetedBackEdges?.get(prog)?.has(pc) ?? true;
    const nodes = unrollLoops(fn, prog.insns, (latch) => !budgeted(prog.insns[latch.end - 1]!.pc));
    const refs = nodes.map((node) => relooper.addBlock(this.blockBody(prog, fn, node.block)));
    nodes.forEach((node, id) => {
      const block = node.block;
      const last = prog.insns[block.end - 1]!;
      const from = refs[id]!;
      if (node.jumpTo !== undefined && node.jumpTo === node.fallTo) {
        relooper.addBranch(from, refs[node.jumpTo]!, 0, 0);
        return;
      }
      if (node.jumpTo !== undefined) {
        const budget = block.backEdge && budgeted(last.pc) ? this.budgetCheck(last.pc) : 0;
        const cond = block.conditional ? this.condition(last, this.predecessors(prog, block, last)) : 0;
        relooper.addBranch(from, refs[node.jumpTo]!, cond, budget);
      }
      if (node.fallTo !== undefined) relooper.addBranch(from, refs[node.fallTo]!, 0, 0);
    });
    const entry = refs[0];
    if (entry === undefined) throw new Error(`function ${fn.name} has no blocks`);
    // r10 is read-only (encoding.ts refuses writes), so its frame's base holds for the whole function.
    const frameBase = m.local.set(this.frameBaseLocal, m.i32.sub(this.get32(10), m.i32.const(STACK_FRAME)));
    const body = m.block(null, [frameBase, relooper.renderAndDispose(entry, LOCAL_LABEL), m.unreachable()]);
    m.addFunction(fnName(prog, fn.start), INTERNAL_PARAMS, i64, [...EXTRA_LOCALS, ...extraLocals], body);
  }

  /**
   * An i64 local (after the fixed ones) for each stack slot of this function the verifier
   * found only spilled and filled whole by the function itself; returns their types.
   */
  private planSlotLocals(prog: Program, fn: FunctionCfg): binaryen.Type[] {
    this.slotLocal = new Map();
    const facts = this.input.stackLocals?.get(prog);
    if (!facts) return [];
    const localOfSlot = new Map<number, number>();
    for (const block of fn.blocks) {
      for (let p = block.first; p < block.end; p++) {
        const pc = prog.insns[p]!.pc;
        const slot = facts.get(pc);
        if (slot === undefined) continue;
        let local = localOfSlot.get(slot);
        if (local === undefined) localOfSlot.set(slot, (local = FIRST_SLOT_LOCAL + localOfSlot.size));
        this.slotLocal.set(pc, local);
      }
    }
    return new Array<binaryen.Type>(localOfSlot.size).fill(i64);
  }

  private budgetCheck(pc: number): binaryen.ExpressionRef {
    const m = this.m;
    return m.block(null, [
      m.global.set(G_BUDGET, m.i32.sub(m.global.get(G_BUDGET, i32), m.i32.const(1))),
      m.if(m.i32.le_s(m.global.get(G_BUDGET, i32), m.i32.const(0)), this.fault(FAULT.BUDGET, pc)),
    ]);
  }

  private fault(kind: number, pc: number): binaryen.ExpressionRef {
    const m = this.m;
    return m.block(null, [m.call(FAULT_IMPORT, [m.i32.const(kind), m.i32.const(pc)], none), m.unreachable()]);
  }

  private blockBody(prog: Program, fn: FunctionCfg, block: Block): binaryen.ExpressionRef {
    const stmts: binaryen.ExpressionRef[] = [];
    /** Registers known (within this block) to hold a given map's handle: for inline array lookups. */
    const knownMap = new Map<number, number>();
    this.blockForwarding = this.forwarding[block.id];
    const keys = planBlockKeys(prog.insns, block.first, block.end);
    this.blockConstantKeys = keys.constants;
    this.blockKeyStores = keys.stores;
    for (let p = block.first; p < block.end; p++) {
      const insn = prog.insns[p]!; // a block's positions index prog.insns
      if (isJa(insn.opcode) || isCondJmp(insn.opcode)) break; // handled as a Relooper branch
      stmts.push(this.instruction(prog, fn, insn, knownMap));
      trackKnownMaps(insn, knownMap);
    }
    return this.m.block(null, stmts);
  }

  // --- registers -------------------------------------------------------------------------

  private get(r: number): binaryen.ExpressionRef {
    return this.m.local.get(regLocal(r), i64);
  }
  private set(r: number, value: binaryen.ExpressionRef): binaryen.ExpressionRef {
    return this.m.local.set(regLocal(r), value);
  }
  private get32(r: number): binaryen.ExpressionRef {
    return this.m.i32.wrap(this.get(r));
  }

  // --- instructions ----------------------------------------------------------------------

  private instruction(prog: Program, fn: FunctionCfg, insn: Insn, knownMap: Map<number, number>): binaryen.ExpressionRef {
    const m = this.m;
    const op = insn.opcode;
    switch (insnClass(op)) {
      case CLASS.ALU64:
        return this.set(insn.dst, this.alu64(insn));
      case CLASS.ALU:
        if (aluOp(op) === ALU.END) return this.set(insn.dst, this.endian(insn));
        return this.set(insn.dst, m.i64.extend_u(this.alu32(insn)));
      case CLASS.LD:
        return this.set(insn.dst, this.ldImm64(prog, insn));
      case CLASS.LDX: {
        // .rodata is frozen at load: the verifier read the value out of the object's bytes.
        const constant = this.input.constantLoads?.get(prog)?.get(insn.pc);
        if (constant !== undefined) return this.set(insn.dst, m.i64.const(BigInt.asIntN(64, constant) as unknown as number));
        const slot = this.slotLocal.get(insn.pc);
        if (slot !== undefined) return this.set(insn.dst, m.local.get(slot, i64));
        const pieces = this.blockForwarding?.loads.get(insn.pc);
        if (pieces) return this.set(insn.dst, this.forwardedLoad(pieces));
        return this.set(insn.dst, this.load(insn));
      }
      case CLASS.ST:
      case CLASS.STX: {
        if (insnClass(op) === CLASS.STX && memMode(op) === MODE.ATOMIC) return this.atomic(insn);
        const value = insnClass(op) === CLASS.ST ? m.i64.const(insn.imm) : this.get(insn.src);
        const slot = this.slotLocal.get(insn.pc);
        if (slot !== undefined) return m.local.set(slot, value);
        const temp = this.blockForwarding?.saves.get(insn.pc);
        if (temp === undefined) return this.store(insn, value);
        // A later load of this block reads these bytes back: keep the value for it.
        const local = this.firstForwardLocal + temp;
        return m.block(null, [m.local.set(local, value), this.store(insn, m.local.get(local, i64))]);
      }
      case CLASS.JMP:
        if (isExit(op)) return m.return(this.get(0));
        if (isCall(op)) return this.call(prog, fn, insn, knownMap);
        break;
    }
    throw new UserError(`${prog.name}: instruction ${insn.pc} (${disasm(insn)}): not supported by codegen`);
  }

  private imm64(insn: Insn): binaryen.ExpressionRef {
    return this.m.i64.const(insn.imm); // sign-extended 32-bit immediate
  }

  private alu64(insn: Insn): binaryen.ExpressionRef {
    const m = this.m;
    const a = this.get(insn.dst);
    const b = isRegSource(insn.opcode) ? this.get(insn.src) : this.imm64(insn);
    const signed = insn.off === 1;
    switch (aluOp(insn.opcode)) {
      case ALU.ADD:
        return m.i64.add(a, b);
      case ALU.SUB:
        return m.i64.sub(a, b);
      case ALU.MUL:
        return m.i64.mul(a, b);
      case ALU.OR:
        return m.i64.or(a, b);
      case ALU.AND:
        return m.i64.and(a, b);
      case ALU.XOR:
        return m.i64.xor(a, b);
      case ALU.LSH:
        return m.i64.shl(a, b); // wasm masks the count by 63, as BPF does
      case ALU.RSH:
        return m.i64.shr_u(a, b);
      case ALU.ARSH:
        return m.i64.shr_s(a, b);
      case ALU.NEG:
        return m.i64.sub(m.i64.const(0), a);
      case ALU.MOV:
        if (insn.off === 8) return m.i64.extend8_s(b);
        if (insn.off === 16) return m.i64.extend16_s(b);
        if (insn.off === 32) return m.i64.extend32_s(b);
        return b;
      case ALU.DIV:
        return this.divide(true, signed, false, insn);
      case ALU.MOD:
        return this.divide(true, signed, true, insn);
      case ALU.END:
        return this.swap(insn.imm, this.get(insn.dst)); // bswap16/32/64
    }
    throw new UserError(`instruction ${insn.pc} (${disasm(insn)}): unknown ALU64 operation`);
  }

  private alu32(insn: Insn): binaryen.ExpressionRef {
    const m = this.m;
    const a = this.get32(insn.dst);
    const b = isRegSource(insn.opcode) ? this.get32(insn.src) : m.i32.const(insn.imm);
    const signed = insn.off === 1;
    switch (aluOp(insn.opcode)) {
      case ALU.ADD:
        return m.i32.add(a, b);
      case ALU.SUB:
        return m.i32.sub(a, b);
      case ALU.MUL:
        return m.i32.mul(a, b);
      case ALU.OR:
        return m.i32.or(a, b);
      case ALU.AND:
        return m.i32.and(a, b);
      case ALU.XOR:
        return m.i32.xor(a, b);
      case ALU.LSH:
        return m.i32.shl(a, b);
      case ALU.RSH:
        return m.i32.shr_u(a, b);
      case ALU.ARSH:
        return m.i32.shr_s(a, b);
      case ALU.NEG:
        return m.i32.sub(m.i32.const(0), a);
      case ALU.MOV:
        if (insn.off === 8) return m.i32.extend8_s(b);
        if (insn.off === 16) return m.i32.extend16_s(b);
        return b;
      case ALU.DIV:
        return this.divide(false, signed, false, insn);
      case ALU.MOD:
        return this.divide(false, signed, true, insn);
    }
    throw new UserError(`instruction ${insn.pc} (${disasm(insn)}): unknown ALU operation`);
  }

  /**
   * BPF division never traps: x / 0 = 0, x % 0 = x, and signed INT_MIN / -1 = INT_MIN
   * (INT_MIN % -1 = 0). 32-bit forms work on the low halves.
   */
  private divide(wide: boolean, signed: boolean, modulo: boolean, insn: Insn): binaryen.ExpressionRef {
    const m = this.m;
    const T = wide ? m.i64 : m.i32;
    const a = (): binaryen.ExpressionRef => (wide ? this.get(insn.dst) : this.get32(insn.dst));
    const fromImm = !isRegSource(insn.opcode);
    const b = (): binaryen.ExpressionRef =>
      fromImm ? (wide ? m.i64.const(insn.imm) : m.i32.const(insn.imm)) : wide ? this.get(insn.src) : this.get32(insn.src);
    const zero = wide ? m.i64.const(0) : m.i32.const(0);
    const minusOne = (): binaryen.ExpressionRef => (wide ? m.i64.const(-1) : m.i32.const(-1));
    let op: binaryen.ExpressionRef;
    if (!signed) {
      op = modulo ? T.rem_u(a(), b()) : T.div_u(a(), b());
    } else {
      // rem_s(INT_MIN, -1) is 0 in wasm (no trap); div_s traps, so -1 takes the negation.
      op = modulo ? T.rem_s(a(), b()) : m.if(T.eq(b(), minusOne()), T.sub(wide ? m.i64.const(0) : m.i32.const(0), a()), T.div_s(a(), b()));
    }
    if (fromImm && insn.imm !== 0) return op;
    const onZero = modulo ? a() : zero;
    return m.if(T.eqz(b()), onZero, op);
  }

  private swap16(x: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const m = this.m;
    // x is evaluated twice: callers pass local reads only.
    return m.i32.or(
      m.i32.and(m.i32.shr_u(x, m.i32.const(8)), m.i32.const(0xff)),
      m.i32.and(m.i32.shl(this.copy(x), m.i32.const(8)), m.i32.const(0xff00)),
    );
  }

  private swap32(x: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const m = this.m;
    return m.i32.or(
      m.i32.rotl(m.i32.and(x, m.i32.const(0x00ff00ff)), m.i32.const(24)),
      m.i32.rotl(m.i32.and(this.copy(x), m.i32.const(0xff00ff00 | 0)), m.i32.const(8)),
    );
  }

  /** le16/32/64 truncate on a little-endian target; be16/32/64 swap. */
  private endian(insn: Insn): binaryen.ExpressionRef {
    const m = this.m;
    const x = this.get(insn.dst);
    if (isRegSource(insn.opcode)) return this.swap(insn.imm, x);
    if (insn.imm === 16) return m.i64.and(x, m.i64.const(0xffff));
    if (insn.imm === 32) return m.i64.and(x, m.i64.const(0xffffffff));
    return x;
  }

  /** Byte-swap the low `width` bits of a 64-bit value, zero-extending the result. */
  private swap(width: number, x: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const m = this.m;
    if (width === 16) return m.i64.extend_u(this.swap16(m.i32.wrap(x)));
    if (width === 32) return m.i64.extend_u(this.swap32(m.i32.wrap(x)));
    const lo = m.i32.wrap(x);
    const hi = m.i32.wrap(m.i64.shr_u(this.copy(x), m.i64.const(32)));
    return m.i64.or(m.i64.shl(m.i64.extend_u(this.swap32(lo)), m.i64.const(32)), m.i64.extend_u(this.swap32(hi)));
  }

  /** A second use of an operand (operands here are local reads, so copying is cheap and pure). */
  private copy(x: binaryen.ExpressionRef): binaryen.ExpressionRef {
    return this.m.copyExpression(x);
  }

  /** For a block's closing 64-bit register compare: operands to compare before their `+ 1` (bounds-check.ts). */
  private predecessors(prog: Program, block: Block, jump: Insn): Predecessors {
    const known = this.input.addressCompares?.get(prog)?.get(jump.pc) ?? 0;
    if (known === 0 || insnClass(jump.opcode) !== CLASS.JMP || !isRegSource(jump.opcode)) return {};
    return predecessorOperands(prog.insns, block.first, block.end - 1, known);
  }

  /**
   * The jump's condition. `before` (64-bit register compares only) names registers that
   * hold an operand minus 1, where the operand is never 0: the unsigned compares are then
   * spelled on them (q > y as p >= y, q <= y as p < y, for p = q - 1), the same test.
   */
  condition(insn: Insn, before: Predecessors = {}): binaryen.ExpressionRef {
    const m = this.m;
    const op = jmpOp(insn.opcode);
    if (before.dst !== undefined && op === JMP.JGT) return m.i64.ge_u(this.get(before.dst), this.get(insn.src));
    if (before.dst !== undefined && op === JMP.JLE) return m.i64.lt_u(this.get(before.dst), this.get(insn.src));
    if (before.src !== undefined && op === JMP.JLT) return m.i64.le_u(this.get(insn.dst), this.get(before.src));
    if (before.src !== undefined && op === JMP.JGE) return m.i64.gt_u(this.get(insn.dst), this.get(before.src));
    const wide = insnClass(insn.opcode) === CLASS.JMP;
    const T = wide ? m.i64 : m.i32;
    const a = wide ? this.get(insn.dst) : this.get32(insn.dst);
    const b = isRegSource(insn.opcode)
      ? wide
        ? this.get(insn.src)
        : this.get32(insn.src)
      : wide
        ? m.i64.const(insn.imm)
        : m.i32.const(insn.imm);
    switch (op) {
      case JMP.JEQ:
        return T.eq(a, b);
      case JMP.JNE:
        return T.ne(a, b);
      case JMP.JGT:
        return T.gt_u(a, b);
      case JMP.JGE:
        return T.ge_u(a, b);
      case JMP.JLT:
        return T.lt_u(a, b);
      case JMP.JLE:
        return T.le_u(a, b);
      case JMP.JSGT:
        return T.gt_s(a, b);
      case JMP.JSGE:
        return T.ge_s(a, b);
      case JMP.JSLT:
        return T.lt_s(a, b);
      case JMP.JSLE:
        return T.le_s(a, b);
      case JMP.JSET:
        return T.ne(T.and(a, b), wide ? m.i64.const(0) : m.i32.const(0));
    }
    throw new UserError(`instruction ${insn.pc} (${disasm(insn)}): unknown jump condition`);
  }

  private ldImm64(prog: Program, insn: Insn): binaryen.ExpressionRef {
    const m = this.m;
    if (!isLdImm64(insn.opcode)) {
      throw new UserError(`${prog.name}: instruction ${insn.pc} (${disasm(insn)}): legacy packet loads are not supported`);
    }
    const value = insn.imm64 ?? BigInt(insn.imm);
    switch (insn.src) {
      case PSEUDO.NONE:
        return m.i64.const(BigInt.asIntN(64, value) as unknown as number);
      case PSEUDO.MAP_IDX:
        return m.i64.const(this.placement(prog, insn, insn.imm).handle);
      case PSEUDO.MAP_IDX_VALUE: {
        const place = this.placement(prog, insn, insn.imm);
        if (place.storage === undefined) {
          throw new UserError(`${prog.name}: instruction ${insn.pc}: map value reference into a map without static storage`);
        }
        return m.i64.const(place.storage + Number(value >> 32n));
      }
      case PSEUDO.FUNC: {
        const index = this.tableIndex.get(fnName(prog, insn.pc + 1 + insn.imm));
        if (index === undefined) throw new Error(`callback at slot ${insn.pc} missing from the table`);
        return m.i64.const(index);
      }
    }
    throw new UserError(`${prog.name}: instruction ${insn.pc} (${disasm(insn)}): ld_imm64 kind ${insn.src} is not relocated`);
  }

  private placement(prog: Program, insn: Insn, index: number): MapPlacement {
    const place = this.input.placements[index];
    if (!place) throw new UserError(`${prog.name}: instruction ${insn.pc}: reference to unknown map #${index}`);
    return place;
  }

  /**
   * Effective address as (i32 pointer, non-negative static offset). An access r10 - k in
   * the frame is (frame base) + (STACK_FRAME - k): the same address (the frame lies above
   * address 0, so neither form wraps), with the offset in the load or store itself, so V8
   * addresses it in one instruction instead of computing r10 - k first.
   */
  private address(base: number, off: number): [binaryen.ExpressionRef, number] {
    const m = this.m;
    if (base === 10 && off < 0 && off >= -STACK_FRAME) return [m.local.get(this.frameBaseLocal, i32), STACK_FRAME + off];
    if (off >= 0) return [this.get32(base), off];
    return [m.i32.add(this.get32(base), m.i32.const(off)), 0];
  }

  private load(insn: Insn): binaryen.ExpressionRef {
    const m = this.m;
    const [ptr, off] = this.address(insn.src, insn.off);
    const sx = memMode(insn.opcode) === MODE.MEMSX;
    switch (memSize(insn.opcode)) {
      case SIZE.B:
        return sx ? m.i64.load8_s(off, 1, ptr) : m.i64.load8_u(off, 1, ptr);
      case SIZE.H:
        return sx ? m.i64.load16_s(off, 1, ptr) : m.i64.load16_u(off, 1, ptr);
      case SIZE.W:
        return sx ? m.i64.load32_s(off, 1, ptr) : m.i64.load32_u(off, 1, ptr);
      default:
        return m.i64.load(off, 1, ptr);
    }
  }

  /** A load's value from the values its block's stores wrote (store-forward.ts), little-endian. */
  private forwardedLoad(pieces: readonly ForwardPiece[]): binaryen.ExpressionRef {
    const m = this.m;
    const parts = pieces.map(({ temp, inStore, inLoad, len }) => {
      let v = m.local.get(this.firstForwardLocal + temp, i64);
      if (inStore > 0) v = m.i64.shr_u(v, m.i64.const(8 * inStore));
      if (inStore + len < 8) v = m.i64.and(v, m.i64.const(BigInt.asIntN(64, (1n << BigInt(8 * len)) - 1n) as unknown as number));
      return inLoad > 0 ? m.i64.shl(v, m.i64.const(8 * inLoad)) : v;
    });
    return parts.reduce((a, b) => m.i64.or(a, b));
  }

  private store(insn: Insn, value: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const m = this.m;
    const [ptr, off] = this.address(insn.dst, insn.off);
    switch (memSize(insn.opcode)) {
      case SIZE.B:
        return m.i64.store8(off, 1, ptr, value);
      case SIZE.H:
        return m.i64.store16(off, 1, ptr, value);
      case SIZE.W:
        return m.i64.store32(off, 1, ptr, value);
      default:
        return m.i64.store(off, 1, ptr, value);
    }
  }

  /** Atomics: wasm's sequentially consistent RMW ops on the shared memory. */
  private atomic(insn: Insn): binaryen.ExpressionRef {
    const m = this.m;
    const [ptr, off] = this.address(insn.dst, insn.off);
    const wide = memSize(insn.opcode) === SIZE.DW;
    if (!wide && memSize(insn.opcode) !== SIZE.W) {
      throw new UserError(`instruction ${insn.pc} (${disasm(insn)}): atomics need 4 or 8 bytes`);
    }
    const rmw = wide ? m.i64.atomic.rmw : m.i64.atomic.rmw32_u;
    const v = wide ? this.get(insn.src) : m.i64.and(this.get(insn.src), m.i64.const(0xffffffff));
    if (insn.imm === ATOMIC.CMPXCHG) {
      const expected = wide ? this.get(0) : m.i64.and(this.get(0), m.i64.const(0xffffffff));
      return this.set(0, rmw.cmpxchg(off, ptr, expected, v));
    }
    let old: binaryen.ExpressionRef;
    switch (insn.imm & ~ATOMIC.FETCH) {
      case ATOMIC.ADD:
        old = rmw.add(off, ptr, v);
        break;
      case ATOMIC.OR:
        old = rmw.or(off, ptr, v);
        break;
      case ATOMIC.AND:
        old = rmw.and(off, ptr, v);
        break;
      case ATOMIC.XOR:
        old = rmw.xor(off, ptr, v);
        break;
      case ATOMIC.XCHG & ~ATOMIC.FETCH:
        old = rmw.xchg(off, ptr, v);
        break;
      default:
        throw new UserError(`instruction ${insn.pc} (${disasm(insn)}): unknown atomic operation`);
    }
    return insn.imm & ATOMIC.FETCH ? this.set(insn.src, old) : m.drop(old);
  }

  // --- calls -----------------------------------------------------------------------------

  private args(): binaryen.ExpressionRef[] {
    return [1, 2, 3, 4, 5].map((r) => this.get(r));
  }

  private call(prog: Program, fn: FunctionCfg, insn: Insn, knownMap: Map<number, number>): binaryen.ExpressionRef {
    const m = this.m;
    if (isRegSource(insn.opcode)) return this.set(0, m.call(this.callxImport(), [this.get(insn.dst), ...this.args()], i64));
    if (insn.src === CALL_KIND.LOCAL) {
      const target = fnName(prog, insn.pc + 1 + insn.imm);
      const frame = m.i64.sub(this.get(10), m.i64.const(STACK_FRAME));
      return this.set(0, m.call(target, [...this.args(), frame], i64));
    }
    if (insn.src === CALL_KIND.KFUNC) {
      // Imported like a helper, under the kfunc's own name (core/kfuncs.ts).
      const kfunc = KFUNC_BY_ID.get(insn.imm);
      if (!kfunc) throw new UserError(`${prog.name}: instruction ${insn.pc} (${disasm(insn)}): kfunc id ${insn.imm} is not supported`);
      return this.set(0, m.call(this.helperImport(kfunc.name), this.args(), i64));
    }
    if (insn.src !== CALL_KIND.HELPER) {
      throw new UserError(`${prog.name}: instruction ${insn.pc} (${disasm(insn)}): call kind ${insn.src} is not supported`);
    }
    const helper = HELPER_BY_ID.get(insn.imm);
    if (!helper) throw new UserError(`${prog.name}: instruction ${insn.pc} (${disasm(insn)}): unknown helper ${insn.imm}`);
    switch (insn.imm) {
      case HELPER_ID.get_smp_processor_id:
        return this.set(0, m.i64.extend_u(m.global.get(G_CPU, i32)));
      case HELPER_ID.map_lookup_elem: {
        const inline = this.inlineArrayLookup(knownMap.get(1), this.blockConstantKeys.get(insn.pc));
        if (inline) return this.set(0, inline);
        const specialised = this.specialisedLookup(prog, insn, knownMap.get(1));
        if (specialised) return this.set(0, specialised);
        break;
      }
      case HELPER_ID.tail_call:
        if (fn.start !== prog.funcs[0]?.start) {
          throw new UserError(`${prog.name}: instruction ${insn.pc}: tail calls from subprograms are not supported`);
        }
        return this.tailCall();
      case HELPER_ID.loop:
        return this.boundedLoop();
      case HELPER_ID.xdp_adjust_head:
        // Inline, as the hot lookups (the function's work, without the call and its spills).
        return this.set(0, m.i64.extend_s(inlineAdjustHead(m, G_XDP_CTX, this.adjustHeadLocals, this.get32(2), `adjust_head$${insn.pc}`)));
      case HELPER_ID.xdp_adjust_meta:
      case HELPER_ID.xdp_adjust_tail:
        return this.set(0, m.i64.extend_s(m.call(this.wasmHelper(helper.name), [this.get32(1), this.get32(2)], i32)));
      case HELPER_ID.get_prandom_u32:
        return this.set(0, m.call(this.wasmHelper(helper.name), [], i64));
      case HELPER_ID.ktime_get_ns:
      case HELPER_ID.csum_diff:
        return this.set(0, m.call(this.wasmHelper(helper.name), this.args(), i64));
    }
    const fast = I32_HELPERS[helper.name];
    if (fast) return this.set(0, this.i32HelperCall(helper.name, fast));
    return this.set(0, m.call(this.helperImport(helper.name), this.args(), i64));
  }

  /**
   * map_lookup_elem and map_update_elem are called through the module's own functions
   * (codegen-maps.ts): the hash family in wasm, the rest through the i32 import, which they
   * take as their fallback. Same signature as the import, so callers need not care.
   */
  private ownMapFunction(helper: string, importName: string): string | undefined {
    const add =
      helper === 'map_lookup_elem'
        ? (name: string) => addHashLookup(this.m, name, importName, G_CPU, this.input.layout.maxCpus)
        : helper === 'map_update_elem'
          ? (name: string) => addHashUpdate(this.m, name, importName, G_CPU, this.input.layout.maxCpus)
          : undefined;
    if (!add) return undefined;
    const name = `${helper}$wasm`;
    if (!this.ownFunctions.has(name)) {
      this.ownFunctions.add(name);
      add(name);
    }
    return name;
  }

  /**
   * The module's own version of a hot helper (codegen-helpers.ts), added on first use with
   * the import it falls back to, if it has one.
   */
  private wasmHelper(helper: string): string {
    const added = (name: string, add: () => void): string => {
      if (!this.ownFunctions.has(name)) {
        this.ownFunctions.add(name);
        add();
      }
      return name;
    };
    const m = this.m;
    switch (helper) {
      case 'xdp_adjust_head':
        return added(WASM_HELPER.adjustHead, () => addAdjustHead(m, G_XDP_CTX));
      case 'xdp_adjust_meta':
        return added(WASM_HELPER.adjustMeta, () => addAdjustMeta(m, G_XDP_CTX));
      case 'xdp_adjust_tail':
        return added(WASM_HELPER.adjustTail, () => addAdjustTail(m, G_XDP_CTX, this.i32HelperImport(helper, I32_HELPERS.xdp_adjust_tail!)));
      case 'get_prandom_u32':
        return added(WASM_HELPER.prandom, () => addPrandom(m, G_XDP_CTX));
      case 'ktime_get_ns':
        return added(WASM_HELPER.ktime, () => addKtime(m, G_XDP_CTX, G_FLAGS, this.helperImport(helper)));
      case 'csum_diff':
        return added(WASM_HELPER.csumDiff, () => addCsumDiff(m, this.helperImport(helper)));
    }
    throw new Error(`no wasm version of helper ${helper}`);
  }

  private i32HelperImport(name: string, sig: I32HelperSig): string {
    const importName = `helper32$${name}`;
    if (!this.helperImports.has(importName)) {
      this.helperImports.add(importName);
      this.m.addFunctionImport(importName, HELPER_MODULE, name, binaryen.createType(new Array(sig.args).fill(i32)), i32);
    }
    return importName;
  }

  /** A hot helper through its i32 import (see I32_HELPERS in abi.ts). */
  private i32HelperCall(name: string, sig: I32HelperSig): binaryen.ExpressionRef {
    const m = this.m;
    const importName = this.i32HelperImport(name, sig);
    const args = Array.from({ length: sig.args }, (_, i) => {
      const r = i + 1;
      if (sig.flagsArg !== r) return this.get32(r);
      // Flags with any of the high 32 bits set become all-ones: invalid for every helper.
      return m.select(m.i64.ne(m.i64.shr_u(this.get(r), m.i64.const(32)), m.i64.const(0)), m.i32.const(-1), this.get32(r));
    });
    const call = m.call(this.ownMapFunction(name, importName) ?? importName, args, i32);
    return sig.result === 'pointer' ? m.i64.extend_u(call) : m.i64.extend_s(call);
  }

  private helperImport(name: string): string {
    if (!this.helperImports.has(name)) {
      this.helperImports.add(name);
      this.m.addFunctionImport(`helper$${name}`, HELPER_MODULE, name, HELPER_PARAMS, i64);
    }
    return `helper$${name}`;
  }

  private callxImport(): string {
    if (!this.callxImported) {
      this.callxImported = true;
      this.m.addFunctionImport(`helper$${CALLX_IMPORT}`, HELPER_MODULE, CALLX_IMPORT, CALLX_PARAMS, i64);
    }
    return `helper$${CALLX_IMPORT}`;
  }

  /**
   * map_lookup_elem on a map whose shape (type, key size) is known here: a function of the
   * module made for that shape (codegen-map-lookup.ts), guarded, with the generic lookup
   * behind it.
   */
  private specialisedLookup(prog: Program, insn: Insn, mapIndex: number | undefined): binaryen.ExpressionRef | undefined {
    const spec = mapIndex === undefined ? undefined : this.input.maps[mapIndex];
    const shape = spec ? { type: spec.type, keySize: spec.keySize } : this.input.lookupShapes?.get(prog)?.get(insn.pc);
    if (!shape || !hasSpecialisedLookup(shape)) return undefined;
    const generic = this.ownMapFunction('map_lookup_elem', this.i32HelperImport('map_lookup_elem', I32_HELPERS.map_lookup_elem!))!;
    const maxCpus = this.input.layout.maxCpus;
    if (this.inlinedLookups < INLINE_LOOKUPS_PER_FUNCTION) {
      this.inlinedLookups++;
      const label = `lookup$${insn.pc}`;
      const stores = this.blockKeyStores.get(insn.pc);
      return this.m.i64.extend_u(
        inlineLookup(this.m, shape, generic, G_CPU, maxCpus, this.lookupLocals, this.get32(1), this.get32(2), label, stores),
      );
    }
    const name = specialisedLookup(this.m, this.ownFunctions, shape, generic, G_CPU, maxCpus);
    return this.m.i64.extend_u(this.m.call(name, [this.get32(1), this.get32(2)], i32));
  }

  /**
   * map_lookup_elem on a statically placed (per-CPU) array: the key is a u32 index, so the
   * lookup is bounds check plus pointer arithmetic, with no call at all. With a key the
   * block wrote as a constant (constant-keys.ts) it is the element's address, or NULL past
   * the end, decided here.
   */
  private inlineArrayLookup(mapIndex: number | undefined, constantKey: number | undefined): binaryen.ExpressionRef | undefined {
    if (mapIndex === undefined) return undefined;
    const spec = this.input.maps[mapIndex];
    const place = this.input.placements[mapIndex];
    if (!spec || place?.storage === undefined || place.valueStride === undefined) return undefined;
    if (!isArrayLike(spec.type)) return undefined;
    const m = this.m;
    /** This CPU's copy of `address` (the storage holds one copy of the whole array per CPU). */
    const onThisCpu = (address: binaryen.ExpressionRef): binaryen.ExpressionRef =>
      isPerCpu(spec.type)
        ? m.i64.add(address, m.i64.mul(m.i64.extend_u(m.global.get(G_CPU, i32)), m.i64.const(place.cpuStride ?? 0)))
        : address;
    if (constantKey !== undefined) {
      if (constantKey >= spec.maxEntries) return m.i64.const(0);
      return onThisCpu(m.i64.const(place.storage + constantKey * place.valueStride));
    }
    const key = m.i64.load32_u(0, 1, this.get32(2));
    const base = onThisCpu(m.i64.const(place.storage));
    return m.block(
      null,
      [
        m.local.set(LOCAL_T0, key),
        m.if(
          m.i64.lt_u(m.local.get(LOCAL_T0, i64), m.i64.const(spec.maxEntries)),
          m.i64.add(base, m.i64.mul(m.local.get(LOCAL_T0, i64), m.i64.const(place.valueStride))),
          m.i64.const(0),
        ),
      ],
      i64,
    );
  }

  /**
   * bpf_tail_call: the runtime resolves (prog_array, index) to a table index or a negative
   * errno; on success this function's frame is replaced by the target program.
   */
  private tailCall(): binaryen.ExpressionRef {
    const m = this.m;
    return m.block(null, [
      m.local.set(LOCAL_T0, m.call(this.helperImport('tail_call'), this.args(), i64)),
      m.if(
        m.i64.ge_s(m.local.get(LOCAL_T0, i64), m.i64.const(0)),
        m.return_call_indirect(
          TABLE,
          m.i32.wrap(m.local.get(LOCAL_T0, i64)),
          [this.get(1), m.i64.const(0), m.i64.const(0), m.i64.const(0), m.i64.const(0), this.get(10)],
          INTERNAL_PARAMS,
          i64,
        ),
      ),
      this.set(0, m.local.get(LOCAL_T0, i64)),
    ]);
  }

  /**
   * bpf_loop(nr, callback, ctx, flags) runs in wasm: callback(i, ctx) until it returns
   * non-zero; r0 = iterations done. Flags must be 0 (-EINVAL otherwise), nr <= 1 << 23 (-E2BIG).
   */
  private boundedLoop(): binaryen.ExpressionRef {
    const m = this.m;
    const i = (): binaryen.ExpressionRef => m.local.get(LOCAL_I, i64);
    const frame = m.i64.sub(this.get(10), m.i64.const(STACK_FRAME));
    const body = m.loop(
      'bpf_loop',
      m.if(
        m.i64.lt_u(i(), this.get(1)),
        m.block(null, [
          m.local.set(
            LOCAL_T1,
            m.call_indirect(
              TABLE,
              m.i32.wrap(this.get(2)),
              [i(), this.get(3), m.i64.const(0), m.i64.const(0), m.i64.const(0), frame],
              INTERNAL_PARAMS,
              i64,
            ),
          ),
          m.local.set(LOCAL_I, m.i64.add(i(), m.i64.const(1))),
          m.br('bpf_loop', m.i64.eqz(m.local.get(LOCAL_T1, i64))),
        ]),
      ),
    );
    return m.if(
      m.i64.ne(this.get(4), m.i64.const(0)),
      this.set(0, m.i64.const(-22)),
      m.if(
        m.i64.gt_u(this.get(1), m.i64.const(LOOP_MAX)),
        this.set(0, m.i64.const(-7)),
        m.block(null, [m.local.set(LOCAL_I, m.i64.const(0)), body, this.set(0, i())]),
      ),
    );
  }
}

/** Keep track of registers loaded with a map handle (ld_imm64 MAP_IDX) within one block. */
function trackKnownMaps(insn: Insn, known: Map<number, number>): void {
  const op = insn.opcode;
  if (isLdImm64(op) && insn.src === PSEUDO.MAP_IDX) {
    known.set(insn.dst, insn.imm);
    return;
  }
  if (isCall(op)) {
    for (const r of [0, 1, 2, 3, 4, 5]) known.delete(r);
    return;
  }
  if (insnClass(op) === CLASS.ALU64 && aluOp(op) === ALU.MOV && isRegSource(op) && insn.off === 0) {
    const src = known.get(insn.src);
    if (src !== undefined) known.set(insn.dst, src);
    else known.delete(insn.dst);
    return;
  }
  const writes = insnClass(op) === CLASS.ALU || insnClass(op) === CLASS.ALU64 || insnClass(op) === CLASS.LDX || isLdImm64(op);
  if (writes) known.delete(insn.dst);
  if (insnClass(op) === CLASS.STX && memMode(op) === MODE.ATOMIC) {
    if (insn.imm & ATOMIC.FETCH) known.delete(insn.src);
    if (insn.imm === ATOMIC.CMPXCHG) known.delete(0);
  }
}
