// The path walk (the kernel's do_check): a depth-first abstract interpretation of every
// path from the entry, one instruction at a time, with the states of branches not yet
// taken on a stack. At jump targets a state already shown safe that covers the current
// one ends the path (pruning); a state equal to one still being explored there means the
// path can repeat forever ("infinite loop detected"). Static functions and bpf_loop
// callbacks run in a frame of their own, with the caller's state kept below it; a callback
// is a loop headed by its bpf_loop call, walked until its state converges. Global
// functions are walked once on their own, after the entry (global-call.ts).

import { MAX_CALL_DEPTH } from '../../core/abi.js';
import { HELPER_ID } from '../../core/helper-ids.js';
import {
  ATOMIC,
  CALL_KIND,
  CLASS,
  JMP,
  MODE,
  PSEUDO,
  insnClass,
  isCondJmp,
  isRegSource,
  jmpOp,
  jumpTarget,
  memMode,
  sizeBytes,
  type Insn,
} from '../../core/isa.js';
import { MAP_TYPE } from '../../core/map-types.js';
import { aluStep, readReg } from './alu.js';
import { ADDRESS_DST, ADDRESS_SRC } from '../address-compares.js';
import { decideBranch, refineBranch } from './branch.js';
import type { Env } from './env.js';
import type { ProgramFlow } from './flow.js';
import { PROTOS, anythingProto, checkHelperArgs, type CallFacts, type Proto } from './helpers.js';
import { checkKfuncArgs } from './kfuncs.js';
import { KFUNC_BY_ID, isDynptrKfunc } from '../../core/kfuncs.js';
import { checkDynptrKfunc } from './dynptr.js';
import { checkCallWhileLocked, checkExitWhileLocked, keepsLockId, lockValueId, spinLockCall } from './spin-lock.js';
import { liveRegisters } from './liveness.js';
import { loadedScalar, memAccess, readOnly } from './memory.js';
import { StackLocals } from './stack-locals.js';
import { reject } from './problem.js';
import { checkGlobalCall, globalEntryArgs } from './global-call.js';
import type { GlobalFunc } from '../../core/model.js';
import {
  NOT_INIT,
  T,
  TYPE_NAME,
  UNKNOWN_SCALAR,
  constReg,
  constRegInt,
  isKnownZero,
  isOrNull,
  isPacket,
  isSlice,
  isPointer,
  nonNullType,
  pointer,
  regWith,
  scalarReg,
  type Reg,
} from './reg.js';
import { isConst, scalarEqual, signExtend, type Scalar } from './scalar.js';
import { SLOTS, State, covers, makeFrame, outerCompared, writableStack } from './state.js';
import { addFrame, addSlot, forEachSlot, hasSlot, slotSet, type SlotSet } from './slot-set.js';
import { EXIT_FROM_CALLBACK, NO_INFO, Precision, histEntry, markPrecise, newHist, stackInfo, type Hist } from './precision.js';
import type { HelperSpec } from './structure-dataflow.js';

/** The kernel's limits: instructions processed, and branches pending (BPF_COMPLEXITY_LIMIT_*). */
export const MAX_PROCESSED = 1_000_000;
export const MAX_PENDING = 8192;
/** States kept per pruning point (the kernel evicts; we stop adding). */
const MAX_STATES_PER_POINT = 64;
const MAX_STATES_PER_LOOP_HEAD = 8;

export interface ExploreFacts {
  helpersUsed: Set<number>;
  /** Per function (flow order): bytes of frame used. */
  stackDepth: number[];
  /** Back-edges the walk took, each with how often; every one belongs to a loop the walk bounded. */
  loops: { from: number; to: number; taken: number }[];
  processed: number;
  statesKept: number;
  /**
   * Loads whose value is a constant of the program: on every path walked, a read at a
   * constant offset into a read-only map's value (.rodata, frozen at load; bpf_map_direct_read),
   * by slot, with the value as the load leaves it in the register. Pruned paths agree: a
   * state covers another only with the same map and the same constant offset.
   */
  constantLoads: Map<number, bigint>;
  /**
   * map_lookup_elem calls whose map had one type and key size on every walk, by pc. A hint:
   * a pruned path may reach the call with another map, so the lookup made for the shape
   * checks the map's descriptor before it relies on it (codegen-map-lookup.ts).
   */
  lookupShapes: Map<number, { type: number; keySize: number }>;
  /** Loads and stores of whole 8-byte stack slots codegen may keep in locals, by slot (stack-locals.ts). */
  stackLocals: Map<number, number>;
  /** 64-bit register compares whose operands were packet addresses on every walk, by pc (noteAddressCompare). */
  addressCompares: Map<number, number>;
}

interface Checkpoint {
  readonly state: State;
  readonly parent: Checkpoint | undefined;
  /** Paths from this state still being explored; 0 = all done and safe. */
  branches: number;
  /** The instructions walked from the parent checkpoint to this one (precision.ts). */
  readonly hist: Hist;
  /** Its scalars whose values mattered on some path from here, and the slots read. */
  readonly precision: Precision;
  /** Stack slots overwritten whole between the parent and here. */
  readonly written: SlotSet;
  /** Paths pruned by this state, and paths it failed to prune. */
  hits: number;
  misses: number;
}

interface Path {
  state: State;
  pos: number;
  parent: Checkpoint | undefined;
  /** Instructions walked since the parent checkpoint (precision.ts Hist). */
  hist: Hist;
  /** Stack slots overwritten whole since the parent checkpoint. */
  written: SlotSet;
}

export interface ExploreInput {
  insns: readonly Insn[];
  maps: Env['maps'];
  section: string;
  flow: ProgramFlow;
  posOfPc: ReadonlyMap<number, number>;
  helpers: ReadonlyMap<number, HelperSpec>;
  /** Instructions to process before giving up (the kernel's MAX_PROCESSED unless lower). */
  maxProcessed?: number;
  /** Per function (flow order): its signature when it is a global function. */
  globals?: readonly (GlobalFunc | undefined)[];
}

export function explore(input: ExploreInput): ExploreFacts {
  const { insns, flow, posOfPc } = input;
  const maxProcessed = Math.min(input.maxProcessed ?? MAX_PROCESSED, MAX_PROCESSED);
  const stackDepth = flow.functions.map(() => 0);
  let lastId = 0;
  const env: Env = {
    insns,
    maps: input.maps,
    functions: flow.functions,
    helpers: input.helpers,
    section: input.section,
    newId: () => ++lastId,
    noteStack: (fn, depth) => {
      if (depth > stackDepth[fn]!) stackDepth[fn] = depth;
    },
    stackRead: (frame, lo, hi) => {
      for (let s = lo; s <= hi; s++) markRead(path!, frame, s);
    },
    stackWritten: (frame, slot) => {
      addSlot(path!.written, frame, slot);
    },
    precise: (regnos, slots = []) => {
      let mask = 0;
      for (const r of regnos) mask |= 1 << r;
      const depth = path!.state.frames.length - 1;
      const regs: number[] = [];
      regs[depth] = mask;
      markPrecise(insns, path!, depth, regs, slots, 1);
    },
  };
  const fnByStart = new Map(flow.functions.map((f, i) => [f.start, i]));
  const protoOf = (id: number): Proto | undefined => {
    const known = PROTOS.get(id);
    if (known) return known;
    const extra = input.helpers.get(id);
    return extra ? anythingProto(extra.args) : undefined;
  };
  const live = liveRegisters(insns, flow, posOfPc, (id) => {
    const p = protoOf(id);
    let mask = 0;
    for (let r = 1; r <= (p?.args.length ?? 5); r++) mask |= 1 << r;
    return mask;
  });
  const prunePoint = new Uint8Array(insns.length);
  // Calls that take a callback (bpf_loop) run it any number of times: the kernel walks it
  // as a loop whose head is the call itself (calls_callback), always a checkpoint.
  const callsCallback = new Uint8Array(insns.length);
  insns.forEach((insn, pos) => {
    const cls = insnClass(insn.opcode);
    if ((cls === CLASS.JMP || cls === CLASS.JMP32) && (isCondJmp(insn.opcode) || jmpOp(insn.opcode) === JMP.JA)) {
      prunePoint[posOfPc.get(jumpTarget(insn))!] = 1;
      if (isCondJmp(insn.opcode) && pos + 1 < insns.length) prunePoint[pos + 1] = 1;
    }
    if (insn.opcode === (CLASS.JMP | JMP.CALL) && insn.src === 0 && protoOf(insn.imm)?.args.includes('func')) {
      callsCallback[pos] = 1;
      prunePoint[pos] = 1;
    }
  });
  const visited = new Map<number, Checkpoint[]>();
  const helpersUsed = new Set<number>();
  /** Slot -> the constant it loaded on every walk so far; null once one walk differed. */
  const constantLoads = new Map<number, bigint | null>();
  const stackLocals = new StackLocals();
  /** pc of a map_lookup_elem -> the shape of its map on every walk so far; null once one walk differed. */
  const lookupShapes = new Map<number, { type: number; keySize: number } | null>();
  /** pc of a 64-bit register compare -> which operands were packet addresses on every walk so far (ADDRESS_DST | ADDRESS_SRC). */
  const addressCompares = new Map<number, number>();
  const loops = new Map<string, { from: number; to: number; taken: number }>();
  const pending: Path[] = [];
  let processed = 0;
  let statesKept = 0;
  let jumpsSinceKept = 0;
  let processedWhenKept = 0;

  const finish = (path: Path): void => {
    for (let c = path.parent; c; c = c.parent) {
      if (--c.branches > 0) break;
    }
  };
  const fork = (path: Path, state: State, pos: number, at: Insn): Path => {
    if (path.parent) path.parent.branches++;
    const frozen = path.hist;
    path.hist = newHist(frozen);
    const other = { state, pos, parent: path.parent, hist: newHist(frozen), written: path.written.slice() };
    pending.push(other);
    if (pending.length > MAX_PENDING) reject(at, `The sequence of ${pending.length} jumps is too complex.`);
    return other;
  };

  const globals = input.globals ?? [];
  // Global functions called so far, each walked once on its own after the entry (the
  // kernel's lazy verification of global subprograms, in function order).
  const globalsCalled = new Set<number>();
  const globalsWalked = new Set<number>();
  const entryPath = (fn: number, args: Reg[]): Path => {
    const state = State.entry(fn, NOT_INIT);
    for (let r = 1; r <= 5; r++) state.cur.regs[r] = args[r - 1]!;
    return { state, pos: posOfPc.get(flow.functions[fn]!.start)!, parent: undefined, hist: newHist(), written: newWritten() };
  };
  const nextGlobal = (): Path | undefined => {
    const fn = [...globalsCalled].filter((f) => !globalsWalked.has(f)).sort((a, b) => a - b)[0];
    if (fn === undefined) return undefined;
    globalsWalked.add(fn);
    return entryPath(fn, globalEntryArgs(env, globals[fn]!));
  };

  let path: Path | undefined = entryPath(0, [pointer(T.CTX), NOT_INIT, NOT_INIT, NOT_INIT, NOT_INIT]);
  while (path || pending.length > 0 || (path = nextGlobal())) {
    path ??= pending.pop()!;
    const pos = path.pos;
    const insn = insns[pos]!;
    const st = path.state;

    if (prunePoint[pos]) {
      const here = visited.get(pos) ?? [];
      const liveHere = live[pos]!;
      const loopHead = callsCallback[pos] === 1;
      let pruned = false;
      // Newest first; a state that keeps failing to match is dropped (the kernel's miss_cnt).
      for (let k = here.length - 1; k >= 0; k--) {
        const c = here[k]!;
        if (c.branches === 0) {
          if (covers(c.state, st, liveHere, 'safe', c.precision)) {
            // What mattered from c matters on this path too: its sources become precise.
            inheritPrecision(path, c, liveHere);
            inheritReads(path, c);
            c.hits++;
            pruned = true;
            break;
          }
          if (++c.misses > c.hits * 3 + 3) here.splice(k, 1);
        } else if (loopHead) {
          // Another callback iteration that brings nothing new: the callback has converged.
          if (covers(c.state, st, liveHere, 'within', c.precision)) {
            // c's marks are not final: whatever this path holds may matter.
            inheritEverything(path, liveHere);
            c.hits++;
            pruned = true;
            break;
          }
        } else if (c.state.unroll === st.unroll && covers(c.state, st, liveHere, 'exact', c.precision)) {
          reject(insn, `infinite loop detected at insn ${insn.pc}`);
        }
      }
      if (pruned) {
        finish(path);
        path = undefined;
        continue;
      }
      // Like the kernel, keep a new state only after at least 2 jumps and 8 instructions
      // since the last one kept: fewer states to compare, and still one every few blocks.
      // A loop head always gets one, the oldest making room if needed: with none, the path's
      // history (walked back by precision tracking) would grow with every iteration.
      // Iterations converge against the newest states: a few are enough there.
      if (loopHead && here.length >= MAX_STATES_PER_LOOP_HEAD) here.shift();
      if (here.length < MAX_STATES_PER_POINT && (loopHead || (jumpsSinceKept >= 2 && processed - processedWhenKept >= 8))) {
        jumpsSinceKept = 0;
        processedWhenKept = processed;
        const c: Checkpoint = {
          state: st.clone(),
          parent: path.parent,
          branches: 1,
          hist: path.hist,
          precision: new Precision(st.frames.length),
          written: path.written,
          hits: 0,
          misses: 0,
        };
        here.push(c);
        visited.set(pos, here);
        path.parent = c;
        path.hist = newHist();
        path.written = newWritten();
        statesKept++;
      }
    }
    path.hist.entries.push(histEntry(pos, st.frames.length - 1), historyInfo(insn, st));

    if (++processed > maxProcessed) reject(insn, `BPF program is too large. Processed ${processed} insn`);
    const regs = st.cur.regs;
    const op = insn.opcode;
    switch (insnClass(op)) {
      case CLASS.ALU:
      case CLASS.ALU64:
        aluStep(env, st, insn);
        path.pos++;
        continue;
      case CLASS.LD:
        regs[insn.dst] = loadImm64(insn, env, fnByStart);
        path.pos++;
        continue;
      case CLASS.LDX: {
        const base = readReg(st, insn, insn.src);
        const size = sizeBytes(op);
        let v = memAccess(env, st, { insn, regno: insn.src, reg: base, off: insn.off, size, access: 'read' });
        if (memMode(op) === MODE.MEMSX) v = v.type === T.SCALAR ? scalarReg(signExtend(v.s, (size * 8) as 8 | 16 | 32)) : UNKNOWN_SCALAR;
        noteConstantLoad(constantLoads, insn.pc, base, v);
        if (base.type === T.STACK) stackLocals.access(st, insn, base, size, false);
        regs[insn.dst] = v;
        path.pos++;
        continue;
      }
      case CLASS.ST:
      case CLASS.STX: {
        const base = readReg(st, insn, insn.dst);
        const size = sizeBytes(op);
        if (memMode(op) === MODE.ATOMIC) {
          readReg(st, insn, insn.src);
          if (insn.imm === ATOMIC.CMPXCHG) readReg(st, insn, 0);
          memAccess(env, st, { insn, regno: insn.dst, reg: base, off: insn.off, size, access: 'read', atomic: true });
          memAccess(env, st, {
            insn,
            regno: insn.dst,
            reg: base,
            off: insn.off,
            size,
            access: 'write',
            atomic: true,
            value: UNKNOWN_SCALAR,
          });
          if (base.type === T.STACK) stackLocals.access(st, insn, base, size, true);
          if (insn.imm === ATOMIC.CMPXCHG) regs[0] = loadedScalar(size);
          else if (insn.imm & ATOMIC.FETCH) regs[insn.src] = loadedScalar(size);
          path.pos++;
          continue;
        }
        const value = insnClass(op) === CLASS.STX ? readReg(st, insn, insn.src) : constRegInt(insn.imm);
        memAccess(env, st, { insn, regno: insn.dst, reg: base, off: insn.off, size, access: 'write', value });
        if (base.type === T.STACK) stackLocals.access(st, insn, base, size, false);
        path.pos++;
        continue;
      }
    }
    // Jumps.
    jumpsSinceKept++;
    const j = jmpOp(op);
    if (j === JMP.JA) {
      path.pos = posOfPc.get(jumpTarget(insn))!;
      noteBackEdge(insn);
      continue;
    }
    if (j === JMP.EXIT) {
      const r0 = readReg(st, insn, 0);
      if (st.frames.length === 1) {
        checkExitWhileLocked(st, insn);
        const g = globals[st.cur.fn];
        if (g && r0.type !== T.SCALAR) reject(insn, `At subprogram exit the register R0 is not a scalar value (${TYPE_NAME[r0.type]})`);
        const leaked = st.refs[0];
        // Only here, as the kernel's check_reference_leak: a subprogram or callback may exit
        // holding a reference its caller releases (or leaks, found when the program exits).
        if (leaked) {
          reject(
            insn,
            `Unreleased reference id=${leaked.id} alloc_insn=${leaked.insn}; BPF_EXIT instruction in main prog would lead to reference leak`,
          );
        }
        finish(path);
        path = undefined;
        continue;
      }
      const callee = st.frames.pop()!;
      const caller = st.cur;
      if (callee.callback) {
        if (r0.type === T.SCALAR) env.precise([0]);
        if (r0.type !== T.SCALAR || r0.s.umax > 1n) {
          reject(
            insn,
            `At callback return the register R0 has ${r0.type === T.SCALAR ? `umax=${r0.s.umax}` : 'a pointer'} should have been in [0, 1]`,
          );
        }
        // Back to the bpf_loop call, with the caller's registers as they were: it runs again,
        // either another iteration or done (prepare_func_exit for callbacks).
        path.pos = callee.callsite;
        widenAtLoopHead(path);
        continue;
      }
      if (r0.type === T.STACK && r0.n === st.frames.length) reject(insn, 'cannot return stack pointer to the caller frame');
      caller.regs[0] = r0;
      for (let r = 1; r <= 5; r++) caller.regs[r] = NOT_INIT;
      path.pos = callee.callsite + 1;
      continue;
    }
    if (j === JMP.CALL) {
      if (isRegSource(op)) {
        readReg(st, insn, insn.dst);
        stackLocals.call(st);
        regs[0] = UNKNOWN_SCALAR;
        for (let r = 1; r <= 5; r++) regs[r] = NOT_INIT;
        path.pos++;
        continue;
      }
      if (insn.src === CALL_KIND.LOCAL) {
        const fn = fnByStart.get(insn.pc + 1 + insn.imm)!;
        const g = globals[fn];
        if (g) {
          checkGlobalCall(env, st, insn, flow.functions[fn]!.name, g);
          // Verified on its own, the callee sees a stack pointer argument as plain memory:
          // slots it may reach stay in memory, as for a helper.
          stackLocals.call(st);
          globalsCalled.add(fn);
          regs[0] = UNKNOWN_SCALAR;
          for (let r = 1; r <= 5; r++) regs[r] = NOT_INIT;
          path.pos++;
          continue;
        }
        enterFrame(st, fn, pos, false, regs.slice(1, 6));
        freshFrame(path, st);
        path.pos = posOfPc.get(flow.functions[fn]!.start)!;
        continue;
      }
      if (insn.src === CALL_KIND.KFUNC) {
        const kfunc = KFUNC_BY_ID.get(insn.imm);
        if (!kfunc) reject(insn, `invalid kernel function call kfunc#${insn.imm}`);
        checkCallWhileLocked(st, insn);
        let result = UNKNOWN_SCALAR;
        if (isDynptrKfunc(kfunc)) result = checkDynptrKfunc(env, st, insn, kfunc);
        else checkKfuncArgs(env, st, insn, kfunc);
        stackLocals.call(st);
        regs[0] = result;
        for (let r = 1; r <= 5; r++) regs[r] = NOT_INIT;
        path.pos++;
        continue;
      }
      const proto = protoOf(insn.imm);
      if (!proto) reject(insn, `invalid func unknown#${insn.imm} (unknown helper id ${insn.imm})`);
      checkCallWhileLocked(st, insn);
      if (insn.imm === HELPER_ID.spin_lock || insn.imm === HELPER_ID.spin_unlock)
        spinLockCall(env, st, insn, insn.imm === HELPER_ID.spin_lock);
      helpersUsed.add(insn.imm);
      if (insn.imm === HELPER_ID.map_lookup_elem) noteLookupShape(lookupShapes, insn.pc, regs[1]!);
      const name = input.helpers.get(insn.imm)?.name ?? `${insn.imm}`;
      const facts = checkHelperArgs(env, st, insn, name, proto);
      stackLocals.call(st);
      if (facts.callback) {
        // bpf_loop: one more iteration, walked later, with r1 = the index, r2 = the context,
        // from the state before the call; this path goes on as if the loop were done.
        const iteration = st.clone();
        iteration.unroll++;
        const args = [UNKNOWN_SCALAR, facts.callback.ctx, NOT_INIT, NOT_INIT, NOT_INIT];
        enterFrame(iteration, facts.callback.fn, pos, true, args);
        freshFrame(fork(path, iteration, posOfPc.get(flow.functions[facts.callback.fn]!.start)!, insn), iteration);
      }
      const released = proto.args[0] === 'alloc_mem' ? regs[1]!.id : 0;
      regs[0] = lockValueId(env, helperResult(env, st, insn, proto, facts));
      for (let r = 1; r <= 5; r++) regs[r] = NOT_INIT;
      // Packet pointers and dynptr slices (clear_all_pkt_pointers).
      if (proto.changesPacket) st.mapRegs((r) => (isPacket(r) || r.type === T.PKT_END || isSlice(r) ? UNKNOWN_SCALAR : r));
      if (released !== 0) {
        st.mapRegs((r) => (r.id === released && r.type === T.MEM ? UNKNOWN_SCALAR : r));
        st.refs = st.refs.filter((ref) => ref.id !== released);
      }
      if (regs[0]!.type === T.MEM_OR_NULL) st.refs = [...st.refs, { id: regs[0]!.id, insn: insn.pc }];
      path.pos++;
      continue;
    }
    // Conditional jumps.
    const target = posOfPc.get(jumpTarget(insn))!;
    const is32 = insnClass(op) === CLASS.JMP32;
    const dst = readReg(st, insn, insn.dst);
    const src = isRegSource(op) ? readReg(st, insn, insn.src) : constRegInt(is32 ? insn.imm >>> 0 : insn.imm);
    if (!is32 && isRegSource(op)) noteAddressCompare(addressCompares, insn.pc, dst, src);
    const outcome = conditional(env, st, insn, j, is32, dst, src);
    if (outcome.taken && outcome.fallthrough) {
      fork(path, outcome.taken, target, insn);
      if (target <= pos) noteBackEdge(insn);
      path.state = outcome.fallthrough;
      path.pos++;
    } else if (outcome.taken) {
      path.state = outcome.taken;
      path.pos = target;
      noteBackEdge(insn);
    } else if (outcome.fallthrough) {
      path.state = outcome.fallthrough;
      path.pos++;
    } else {
      finish(path);
      path = undefined;
    }
  }

  function inheritPrecision(p: Path, c: Checkpoint, liveHere: number): void {
    const last = c.state.frames.length - 1;
    const slots: [number, number][] = [];
    const regs: number[] = [];
    for (let f = 0; f <= last; f++) {
      // Registers covers did not compare (outerCompared, dead ones) need nothing.
      regs.push(c.precision.regs[f]! & (f === last ? liveHere : outerCompared(c.state, f)));
    }
    forEachSlot(c.precision.slots, last + 1, (f, s) => slots.push([f, s]));
    markPrecise(insns, p, last, regs, slots, 0);
  }

  /**
   * Path p was pruned by a state whose paths are still being walked: whatever it compared
   * may matter, so every compared scalar becomes precise and every slot read.
   */
  function inheritEverything(p: Path, liveHere: number): void {
    const frames = p.state.frames;
    const last = frames.length - 1;
    const slots: [number, number][] = [];
    const regs: number[] = [];
    for (let f = 0; f <= last; f++) {
      regs.push(f === last ? liveHere : outerCompared(p.state, f));
      for (let s = 0; s < SLOTS; s++) if (frames[f]!.stack[s]!.spill?.type === T.SCALAR) slots.push([f, s]);
      markReadWord(p, f * 2, -1);
      markReadWord(p, f * 2 + 1, -1);
    }
    markPrecise(insns, p, last, regs, slots, 0);
  }

  /**
   * Scalars whose value changed since the previous iteration's checkpoint at this callsite
   * and did not matter there become unknown (the kernel's widen_imprecise_scalars), so that
   * a callback counting in its context converges instead of walking every count. Losing
   * what is known is always safe.
   */
  function widenAtLoopHead(p: Path): void {
    const st = p.state;
    const here = visited.get(p.pos) ?? [];
    let prev: Checkpoint | undefined;
    for (let k = here.length - 1; k >= 0 && !prev; k--) if (here[k]!.branches > 0 && sameCallsites(here[k]!.state, st)) prev = here[k];
    if (!prev) return;
    prev.state.frames.forEach((of, f) => {
      const cf = st.frames[f]!;
      for (let r = 0; r <= 10; r++) {
        const o = of.regs[r]!;
        const c = cf.regs[r]!;
        if (o.type === T.SCALAR && c.type === T.SCALAR && !prev.precision.reg(f, r) && !sameScalar(o, c)) cf.regs[r] = UNKNOWN_SCALAR;
      }
      for (let k = 0; k < SLOTS; k++) {
        const o = of.stack[k]!.spill;
        const c = cf.stack[k]!;
        if (o?.type !== T.SCALAR || c.spill?.type !== T.SCALAR || hasSlot(prev.precision.slots, f, k) || sameScalar(o, c.spill)) continue;
        writableStack(cf)[k] = { spill: UNKNOWN_SCALAR, kinds: c.kinds };
      }
    });
  }

  /** A slot is read on path p: every checkpoint up to where it was last overwritten needs it. */
  function markRead(p: Path, frame: number, slot: number): void {
    markReadWord(p, frame * 2 + (slot >> 5), 1 << (slot & 31));
  }

  /**
   * markRead for the slots `bits` of the word `w` of the slot sets (frame w >> 1) at once:
   * each slot goes up the chain until a checkpoint that already has it read or overwrote it.
   */
  function markReadWord(p: Path, w: number, bits: number): void {
    const frame = w >> 1;
    bits &= ~p.written[w]!;
    for (let c = p.parent; bits !== 0 && c && frame < c.state.frames.length; c = c.parent) {
      const read = c.precision.read;
      bits &= ~read[w]!;
      read[w]! |= bits;
      bits &= ~c.written[w]!;
    }
  }

  function inheritReads(p: Path, c: Checkpoint): void {
    const read = c.precision.read;
    const n = Math.min(c.state.frames.length * 2, read.length);
    for (let w = 0; w < n; w++) if (read[w] !== 0) markReadWord(p, w, read[w]!);
  }

  function noteBackEdge(insn: Insn): void {
    const to = jumpTarget(insn);
    if (to > insn.pc) return;
    const key = `${insn.pc}:${to}`;
    const known = loops.get(key);
    if (known) known.taken++;
    else loops.set(key, { from: insn.pc, to, taken: 1 });
  }

  return {
    helpersUsed,
    stackDepth,
    processed,
    statesKept,
    loops: [...loops.values()].sort((a, b) => a.from - b.from),
    constantLoads: new Map([...constantLoads].filter((e): e is [number, bigint] => e[1] !== null)),
    stackLocals: stackLocals.result((pc) => flow.functions.findIndex((f) => pc >= f.start && pc < f.end)),
    lookupShapes: new Map([...lookupShapes].filter((e): e is [number, { type: number; keySize: number }] => e[1] !== null)),
    addressCompares: new Map([...addressCompares].filter((e) => e[1] !== 0)),
  };
}

/**
 * Whether a register holds a packet address no smaller than its packet's start (data_meta,
 * data or data_end, plus a non-negative offset). The runtime places frames above the null
 * page (NULL_PAGE), so such a value is never 0 (codegen relies on that: bounds-check.ts).
 * Pruned paths agree: a state covers another only with the same pointer type and fixed
 * offset and a variable offset within its own in each register it reads (state.ts regSafe).
 */
const isPacketAddress = (r: Reg): boolean =>
  (r.type === T.PKT || r.type === T.PKT_META || r.type === T.PKT_END) && r.off >= 0 && r.s.smin >= 0n;

/** A 64-bit register compare at `pc`: which operands are packet addresses, anded over every walk. */
function noteAddressCompare(compares: Map<number, number>, pc: number, dst: Reg, src: Reg): void {
  const now = (isPacketAddress(dst) ? ADDRESS_DST : 0) | (isPacketAddress(src) ? ADDRESS_SRC : 0);
  const known = compares.get(pc);
  compares.set(pc, known === undefined ? now : known & now);
}

/** A map_lookup_elem at `pc` with `map` in r1: still one map shape at this call, or not. */
function noteLookupShape(shapes: Map<number, { type: number; keySize: number } | null>, pc: number, map: Reg): void {
  const known = shapes.get(pc);
  if (known === null) return;
  const spec = map.type === T.CONST_MAP_PTR ? map.map : undefined;
  const same = spec !== undefined && (known === undefined || (known.type === spec.type && known.keySize === spec.keySize));
  shapes.set(pc, same ? { type: spec.type, keySize: spec.keySize } : null);
}

/** A load through `base` gave `v`: still one constant of a read-only map at this slot, or not. */
function noteConstantLoad(loads: Map<number, bigint | null>, pc: number, base: Reg, v: Reg): void {
  const known = loads.get(pc);
  if (known === null) return;
  const fromReadOnly = base.type === T.MAP_VALUE && base.map !== undefined && readOnly(base.map) && isConst(base.s);
  const value = fromReadOnly && v.type === T.SCALAR && isConst(v.s) ? BigInt.asUintN(64, v.s.t.value) : undefined;
  loads.set(pc, value !== undefined && (known === undefined || known === value) ? value : null);
}

const sameCallsites = (a: State, b: State): boolean =>
  a.frames.length === b.frames.length && a.frames.every((f, i) => f.callsite === b.frames[i]!.callsite && f.fn === b.frames[i]!.fn);
const sameScalar = (a: Reg, b: Reg): boolean => a === b || (a.id === b.id && scalarEqual(a.s, b.s));

const newWritten = (): SlotSet => slotSet(MAX_CALL_DEPTH + 1);

/** A new frame's stack holds nothing from before: reads in it need nothing of older checkpoints. */
function freshFrame(p: { written: SlotSet }, st: State): void {
  addFrame(p.written, st.frames.length - 1);
}

function enterFrame(st: State, fn: number, callsite: number, callback: boolean, args: Reg[]): void {
  const regs = new Array<Reg>(11).fill(NOT_INIT);
  for (let r = 1; r <= 5; r++) regs[r] = args[r - 1]!;
  regs[10] = pointer(T.STACK, { n: st.frames.length });
  const entry = State.entry(fn, NOT_INIT).frames[0]!;
  st.frames.push(makeFrame(regs, entry.stack, false, callsite, fn, callback));
}

function loadImm64(insn: Insn, env: Env, fnByStart: ReadonlyMap<number, number>): Reg {
  switch (insn.src) {
    case PSEUDO.MAP_IDX:
      return pointer(T.CONST_MAP_PTR, { map: env.maps[insn.imm] });
    case PSEUDO.MAP_IDX_VALUE: {
      const high = insn.imm64 === undefined ? 0 : Number(BigInt.asIntN(32, insn.imm64 >> 32n));
      return pointer(T.MAP_VALUE, { map: env.maps[insn.imm], off: high });
    }
    case PSEUDO.FUNC:
      return pointer(T.FUNC, { n: fnByStart.get(insn.pc + 1 + insn.imm)! });
  }
  return constReg(BigInt.asUintN(64, insn.imm64 ?? BigInt(insn.imm)));
}

function helperResult(env: Env, st: State, insn: Insn, proto: Proto, facts: CallFacts): Reg {
  const { map, allocSize } = facts;
  switch (proto.ret) {
    case 'mem_or_null':
      return pointer(T.MEM_OR_NULL, { n: allocSize ?? 0, id: env.newId() });
    case 'dynptr_mem_or_null':
      return pointer(T.SLICE_OR_NULL, { n: allocSize ?? 0, id: env.newId(), range: facts.dynptr ?? 0 });
    case 'map_value_or_null': {
      if (!map) return UNKNOWN_SCALAR;
      if ((map.type === MAP_TYPE.ARRAY_OF_MAPS || map.type === MAP_TYPE.HASH_OF_MAPS) && map.inner) {
        return pointer(T.MAP_PTR_OR_NULL, { map: map.inner, id: env.newId() });
      }
      if (insn.imm === HELPER_ID.map_lookup_elem && arrayKeyInRange(env, st, insn, map)) return pointer(T.MAP_VALUE, { map });
      return pointer(T.MAP_VALUE_OR_NULL, { map, id: env.newId() });
    }
  }
  return UNKNOWN_SCALAR;
}

/** Array lookups with a constant key below max_entries cannot fail (the kernel knows it since 6.14). */
function arrayKeyInRange(env: Env, st: State, insn: Insn, map: NonNullable<Env['maps'][number]>): boolean {
  if ((map.type !== MAP_TYPE.ARRAY && map.type !== MAP_TYPE.PERCPU_ARRAY) || map.keySize !== 4) return false;
  const key = st.cur.regs[2]!;
  if (key.type !== T.STACK) return false;
  const v = memAccess(env, st.clone(), { insn, regno: 2, reg: key, off: 0, size: 4, access: 'read' });
  if (isConst(key.s)) {
    // The key's value decides whether the result can be NULL.
    const at = key.off + Number(BigInt.asIntN(64, key.s.t.value)) + SLOTS * 8;
    const slots: [number, number][] = [];
    for (let s = at >> 3; s <= (at + 3) >> 3 && s < SLOTS; s++) if (s >= 0) slots.push([key.n, s]);
    env.precise([], slots);
  }
  return v.type === T.SCALAR && v.s.umax === v.s.umin && v.s.umax < BigInt(map.maxEntries);
}

interface Outcome {
  taken?: State;
  fallthrough?: State;
}

/** The states on each feasible side of a conditional jump. */
function conditional(env: Env, st: State, insn: Insn, op: number, is32: boolean, dst: Reg, src: Reg): Outcome {
  if (dst.type === T.SCALAR && src.type === T.SCALAR) {
    const operands = isRegSource(insn.opcode) ? [insn.dst, insn.src] : [insn.dst];
    const decided = decideBranch(op, dst.s, src.s, is32);
    if (decided !== undefined) {
      // Only one side is walked because of what is known: that knowledge matters.
      env.precise(operands);
      return decided ? { taken: st } : { fallthrough: st };
    }
    const other = st.clone();
    const outcome = {
      taken: refinedSide(insn, op, is32, dst, src, true, other),
      fallthrough: refinedSide(insn, op, is32, dst, src, false, st),
    };
    if (!outcome.taken || !outcome.fallthrough) env.precise(operands);
    return outcome;
  }
  // Null checks: `if (p == 0)` on a pointer that may be NULL.
  const zeroCmp = op === JMP.JEQ || op === JMP.JNE;
  if (zeroCmp && isRegSource(insn.opcode) && isKnownZero(src) && isPointer(dst)) env.precise([insn.src]);
  if (zeroCmp && isOrNull(dst) && isKnownZero(src)) {
    const nullSide = st.clone();
    markNull(nullSide, dst, true);
    markNull(st, dst, false);
    return op === JMP.JEQ ? { taken: nullSide, fallthrough: st } : { taken: st, fallthrough: nullSide };
  }
  if (
    zeroCmp &&
    isKnownZero(src) &&
    (dst.type === T.MAP_VALUE || dst.type === T.STACK || dst.type === T.CTX || dst.type === T.MEM || dst.type === T.CONST_MAP_PTR)
  ) {
    return op === JMP.JEQ ? { fallthrough: st } : { taken: st };
  }
  if (!is32 && isPointer(dst) && isPointer(src)) {
    const other = st.clone();
    packetCompare(other, op, dst, src, true);
    packetCompare(st, op, dst, src, false);
    return { taken: other, fallthrough: st };
  }
  return { taken: st.clone(), fallthrough: st };
}

/** `state` refined by the comparison of two scalars on one side; undefined if that side cannot happen. */
function refinedSide(insn: Insn, op: number, is32: boolean, dst: Reg, src: Reg, taken: boolean, state: State): State | undefined {
  const r = refineBranch(op, dst.s, src.s, is32, taken);
  if (!r) return undefined;
  setScalar(state, insn.dst, dst, r[0]);
  if (isRegSource(insn.opcode)) setScalar(state, insn.src, src, r[1]);
  return state;
}

/** Set a scalar register's value, and that of every copy linked to it by id. */
function setScalar(st: State, regno: number, reg: Reg, s: Scalar): void {
  if (reg.id === 0) {
    st.cur.regs[regno] = regWith(reg, { s });
    return;
  }
  st.mapRegs((r) => (r.type === T.SCALAR && r.id === reg.id ? regWith(r, { s }) : r));
}

function markNull(st: State, reg: Reg, isNull: boolean): void {
  // NULL: nothing was reserved, so there is nothing to release.
  if (isNull && reg.type === T.MEM_OR_NULL) st.refs = st.refs.filter((ref) => ref.id !== reg.id);
  st.mapRegs((r) => {
    if (r.id !== reg.id || r.type !== reg.type) return r;
    if (isNull) return constReg(0n);
    // Ring buffer memory keeps its id: submit/discard release every copy.
    // So does a map value that may hold a bpf_spin_lock: its lock is told apart by it.
    return regWith(r, { type: nonNullType(r.type), id: r.type === T.MEM_OR_NULL || keepsLockId(r) ? r.id : 0 });
  });
}

/**
 * Comparisons of a packet pointer with data_end (or data_meta with data) in either order
 * and direction: on the side where `pkt + off <= end` holds, every pointer sharing the
 * compared one's id may access `off` bytes.
 */
function packetCompare(st: State, op: number, dst: Reg, src: Reg, taken: boolean): void {
  let pkt: Reg;
  let flipped: boolean;
  if ((dst.type === T.PKT && src.type === T.PKT_END) || (dst.type === T.PKT_META && src.type === T.PKT)) {
    pkt = dst;
    flipped = false;
  } else if ((dst.type === T.PKT_END && src.type === T.PKT) || (dst.type === T.PKT && src.type === T.PKT_META)) {
    pkt = src;
    flipped = true;
  } else {
    return;
  }
  // Normalise to `pkt OP end`.
  const o = flipped
    ? ({ [JMP.JGT]: JMP.JLT, [JMP.JLT]: JMP.JGT, [JMP.JGE]: JMP.JLE, [JMP.JLE]: JMP.JGE } as Record<number, number>)[op]
    : op;
  let safe: boolean;
  switch (o) {
    case JMP.JGT:
      safe = !taken;
      break; // pkt > end: the fall-through has pkt <= end
    case JMP.JGE:
      safe = !taken;
      break; // pkt >= end: the fall-through has pkt < end
    case JMP.JLT:
      safe = taken;
      break;
    case JMP.JLE:
      safe = taken;
      break;
    default:
      return;
  }
  if (!safe || pkt.off < 0 || pkt.s.umax > 0xffffn) return;
  const range = pkt.off;
  st.mapRegs((r) => (r.type === pkt.type && r.id === pkt.id && r.range < range ? regWith(r, { range }) : r));
}

/** What the precision walk needs to know about an instruction besides its text (precision.ts). */
function historyInfo(insn: Insn, st: State): number {
  const op = insn.opcode;
  const cls = insnClass(op);
  if (cls === CLASS.JMP && jmpOp(op) === JMP.EXIT) return st.cur.callback ? EXIT_FROM_CALLBACK : NO_INFO;
  if (cls !== CLASS.LDX && cls !== CLASS.ST && cls !== CLASS.STX) return NO_INFO;
  const base = st.cur.regs[cls === CLASS.LDX ? insn.src : insn.dst]!;
  if (base.type !== T.STACK || !isConst(base.s)) return NO_INFO;
  const size = sizeBytes(op);
  const at = base.off + insn.off + Number(BigInt.asIntN(64, base.s.t.value));
  if (at < -SLOTS * 8 || at + size > 0) return NO_INFO;
  const lo = (at + SLOTS * 8) >> 3;
  const hi = (at + size - 1 + SLOTS * 8) >> 3;
  const aligned = (at & 7) === 0;
  // What a register store leaves (a spill, or zero bytes when it held 0) came from it.
  const fromReg = cls === CLASS.STX && memMode(op) !== MODE.ATOMIC;
  return stackInfo(base.n, lo, hi, fromReg, aligned && size === 8);
}
