// Helper prototypes (the kernel's struct bpf_func_proto) for every helper in
// core/abi.ts HELPERS, and the argument checks of check_func_arg: map pointers, keys and
// values sized by the map, memory + size pairs, the context, callbacks, ring buffer memory.

import { HELPER_ID } from '../../core/helper-ids.js';
import type { Insn } from '../../core/isa.js';
import { MAP_TYPE } from '../../core/map-types.js';
import type { MapSpec } from '../../core/model.js';
import type { Env } from './env.js';
import { memAccess, packetRange, regionRange, stackHelperAccess } from './memory.js';
import { reject } from './problem.js';
import { checkMapForHelper } from './map-compat.js';
import { dynptrArg } from './dynptr.js';
import { T, TYPE_NAME, isKnownZero, type Reg } from './reg.js';
import type { State } from './state.js';

export type Arg =
  | 'anything'
  | 'map'
  | 'key'
  | 'value'
  | 'uninit_value'
  | 'mem'
  | 'mem_or_null'
  | 'uninit_mem'
  | 'size'
  | 'size_or_zero'
  | 'ctx'
  | 'func'
  | 'stack_or_null'
  | 'alloc_mem'
  | 'alloc_size'
  | 'dynptr';
export type Ret = 'int' | 'map_value_or_null' | 'mem_or_null' | 'dynptr_mem_or_null';

export interface Proto {
  args: Arg[];
  ret: Ret;
  /** Invalidates every packet pointer (bpf_helper_changes_pkt_data). */
  changesPacket?: boolean;
  /** Map types the map argument must have (check_map_func_compatibility). */
  mapTypes?: number[];
}

const RINGBUF = [MAP_TYPE.RINGBUF];
const id = HELPER_ID;

export const PROTOS: ReadonlyMap<number, Proto> = new Map<number, Proto>([
  [id.map_lookup_elem!, { args: ['map', 'key'], ret: 'map_value_or_null' }],
  [id.map_update_elem!, { args: ['map', 'key', 'value', 'anything'], ret: 'int' }],
  [id.map_delete_elem!, { args: ['map', 'key'], ret: 'int' }],
  [id.ktime_get_ns!, { args: [], ret: 'int' }],
  [id.trace_printk!, { args: ['mem', 'size'], ret: 'int' }],
  [id.get_prandom_u32!, { args: [], ret: 'int' }],
  [id.get_smp_processor_id!, { args: [], ret: 'int' }],
  [id.tail_call!, { args: ['ctx', 'map', 'anything'], ret: 'int', mapTypes: [MAP_TYPE.PROG_ARRAY] }],
  [id.redirect!, { args: ['anything', 'anything'], ret: 'int' }],
  [id.perf_event_output!, { args: ['ctx', 'map', 'anything', 'mem', 'size_or_zero'], ret: 'int', mapTypes: [MAP_TYPE.PERF_EVENT_ARRAY] }],
  [id.csum_diff!, { args: ['mem_or_null', 'size_or_zero', 'mem_or_null', 'size_or_zero', 'anything'], ret: 'int' }],
  [id.get_numa_node_id!, { args: [], ret: 'int' }],
  [id.xdp_adjust_head!, { args: ['ctx', 'anything'], ret: 'int', changesPacket: true }],
  [
    id.redirect_map!,
    {
      args: ['map', 'anything', 'anything'],
      ret: 'int',
      mapTypes: [MAP_TYPE.DEVMAP, MAP_TYPE.DEVMAP_HASH, MAP_TYPE.CPUMAP, MAP_TYPE.XSKMAP],
    },
  ],
  [id.xdp_adjust_meta!, { args: ['ctx', 'anything'], ret: 'int', changesPacket: true }],
  [id.xdp_adjust_tail!, { args: ['ctx', 'anything'], ret: 'int', changesPacket: true }],
  [id.fib_lookup!, { args: ['ctx', 'mem', 'size', 'anything'], ret: 'int' }],
  [id.map_push_elem!, { args: ['map', 'value', 'anything'], ret: 'int' }],
  [id.map_pop_elem!, { args: ['map', 'uninit_value'], ret: 'int' }],
  [id.map_peek_elem!, { args: ['map', 'uninit_value'], ret: 'int' }],
  // The lock argument's rules are spin-lock.ts's (process_spin_lock).
  [id.spin_lock!, { args: ['anything'], ret: 'int' }],
  [id.spin_unlock!, { args: ['anything'], ret: 'int' }],
  [id.jiffies64!, { args: [], ret: 'int' }],
  [id.ktime_get_boot_ns!, { args: [], ret: 'int' }],
  [id.ringbuf_output!, { args: ['map', 'mem', 'size_or_zero', 'anything'], ret: 'int', mapTypes: RINGBUF }],
  [id.ringbuf_reserve!, { args: ['map', 'alloc_size', 'anything'], ret: 'mem_or_null', mapTypes: RINGBUF }],
  [id.ringbuf_submit!, { args: ['alloc_mem', 'anything'], ret: 'int' }],
  [id.ringbuf_discard!, { args: ['alloc_mem', 'anything'], ret: 'int' }],
  [id.ringbuf_query!, { args: ['map', 'anything'], ret: 'int', mapTypes: RINGBUF }],
  [id.ktime_get_coarse_ns!, { args: [], ret: 'int' }],
  [id.loop!, { args: ['anything', 'func', 'stack_or_null', 'anything'], ret: 'int' }],
  [id.xdp_get_buff_len!, { args: ['ctx'], ret: 'int' }],
  [id.xdp_load_bytes!, { args: ['ctx', 'anything', 'uninit_mem', 'size'], ret: 'int' }],
  [id.xdp_store_bytes!, { args: ['ctx', 'anything', 'mem', 'size'], ret: 'int' }],
  [id.map_lookup_percpu_elem!, { args: ['map', 'key', 'anything'], ret: 'map_value_or_null' }],
  // The dynptr's rules are dynptr.ts's.
  [id.dynptr_read!, { args: ['uninit_mem', 'size_or_zero', 'dynptr', 'anything', 'anything'], ret: 'int' }],
  [id.dynptr_write!, { args: ['dynptr', 'anything', 'mem', 'size_or_zero', 'anything'], ret: 'int' }],
  // NULL at run time for an XDP dynptr (bpf_dynptr_slice is the way to its bytes), which the kernel's verifier does not know.
  [id.dynptr_data!, { args: ['dynptr', 'anything', 'alloc_size'], ret: 'dynptr_mem_or_null' }],
]);

/** Helpers not in the table (test helpers given through extraHelpers) take anything. */
export const anythingProto = (args: number): Proto => ({ args: new Array<Arg>(args).fill('anything'), ret: 'int' });

const MEM_TYPES: ReadonlySet<T> = new Set([T.STACK, T.PKT, T.PKT_META, T.MAP_VALUE, T.MEM, T.SLICE, T.RDONLY_SLICE]);
const MEM_TYPE_NAMES = 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem';

/** Check a memory argument of `size` bytes at `reg` (check_helper_mem_access). */
export function helperMem(env: Env, st: State, insn: Insn, regno: number, reg: Reg, size: number, write: boolean): void {
  if (!MEM_TYPES.has(reg.type)) reject(insn, `R${regno} type=${TYPE_NAME[reg.type]} expected=${MEM_TYPE_NAMES}`);
  switch (reg.type) {
    case T.STACK:
      stackHelperAccess(env, st, insn, regno, reg, size, write);
      return;
    case T.PKT:
    case T.PKT_META:
      if (size > 0) packetRange(insn, regno, reg, 0, size);
      return;
    case T.MAP_VALUE:
      if (size > 0) memAccess(env, st, { insn, regno, reg, off: 0, size, access: write ? 'write' : 'read' });
      return;
    case T.MEM:
    case T.SLICE:
    case T.RDONLY_SLICE:
      if (write && reg.type === T.RDONLY_SLICE) reject(insn, `R${regno} cannot write into ${TYPE_NAME[reg.type]}`);
      if (size > 0) regionRange(insn, regno, reg, 0, size, reg.n, 'memory', 'mem_size');
  }
}

export interface CallFacts {
  map?: MapSpec;
  /** bpf_loop: the callback's function index and what its r2 receives. */
  callback?: { fn: number; ctx: Reg };
  /** ringbuf_reserve, dynptr_data: bytes reserved or asked for. */
  allocSize?: number;
  /** The dynptr argument's id (its slices carry it). */
  dynptr?: number;
}

/** Check the arguments of helper `proto` in r1..; returns what later steps need. */
export function checkHelperArgs(env: Env, st: State, insn: Insn, name: string, proto: Proto): CallFacts {
  const regs = st.cur.regs;
  const facts: CallFacts = {};
  const read = (r: number): Reg => {
    const v = regs[r]!;
    if (v.type === T.NOT_INIT) reject(insn, `R${r} !read_ok`);
    return v;
  };
  const expect = (r: number, reg: Reg, want: string, ok: boolean): void => {
    if (!ok) reject(insn, `R${r} type=${TYPE_NAME[reg.type]} expected=${want}`);
  };
  proto.args.forEach((kind, index) => {
    const r = index + 1;
    const reg = read(r);
    switch (kind) {
      case 'anything':
        return;
      case 'ctx':
        expect(r, reg, 'ctx', reg.type === T.CTX);
        if (reg.off !== 0) reject(insn, `dereference of modified ctx ptr R${r} off=${reg.off} disallowed`);
        return;
      case 'map': {
        expect(r, reg, 'map_ptr', reg.type === T.CONST_MAP_PTR);
        facts.map = reg.map;
        checkMapForHelper(insn, reg.map!, name);
        if (proto.mapTypes && !proto.mapTypes.includes(reg.map!.type)) {
          reject(insn, `cannot pass map_type ${reg.map!.type} into func bpf_${name}#${insn.imm}`);
        }
        return;
      }
      case 'key':
      case 'value':
      case 'uninit_value': {
        const map = facts.map!;
        const size = kind === 'key' ? map.keySize : map.valueSize;
        helperMem(env, st, insn, r, reg, size, kind === 'uninit_value');
        return;
      }
      case 'mem':
      case 'mem_or_null':
      case 'uninit_mem': {
        // The size is the next argument; checked here so both are known.
        const sizeReg = read(r + 1);
        if (kind === 'mem_or_null' && isKnownZero(reg)) {
          env.precise([r]);
          return;
        }
        if (sizeReg.type !== T.SCALAR) reject(insn, `R${r + 1} type=${TYPE_NAME[sizeReg.type]} expected=scalar`);
        env.precise([r + 1]);
        const zeroOk = proto.args[index + 1] === 'size_or_zero';
        if (sizeReg.s.smin < 0n) reject(insn, `R${r + 1} min value is negative, either use unsigned or 'var &= const'`);
        if (sizeReg.s.umax >= 1n << 29n) reject(insn, `R${r + 1} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
        if (!zeroOk && sizeReg.s.umin === 0n && sizeReg.s.umax === 0n) reject(insn, `R${r + 1} invalid zero-sized read`);
        helperMem(env, st, insn, r, reg, Number(sizeReg.s.umax), kind === 'uninit_mem');
        return;
      }
      case 'size':
      case 'size_or_zero':
        expect(r, reg, 'scalar', reg.type === T.SCALAR);
        return;
      case 'alloc_size':
        if (reg.type !== T.SCALAR || reg.s.umin !== reg.s.umax) reject(insn, `R${r} is not a known constant'`);
        env.precise([r]);
        facts.allocSize = Number(reg.s.umin);
        return;
      case 'alloc_mem':
        expect(r, reg, 'ringbuf_mem', reg.type === T.MEM);
        if (reg.off !== 0 || reg.s.umax !== 0n) reject(insn, `R${r} must have zero offset when passed to release func`);
        // Memory that is not a reservation still held (a global function's pointer argument).
        if (!st.refs.some((ref) => ref.id === reg.id)) reject(insn, `R${r} must be referenced when passed to release function`);
        return;
      case 'func':
        expect(r, reg, 'func', reg.type === T.FUNC);
        facts.callback = { fn: reg.n, ctx: regs[r + 1]! };
        return;
      case 'dynptr':
        facts.dynptr = dynptrArg(env, st, insn, r, reg, false).id;
        return;
      case 'stack_or_null':
        expect(r, reg, 'fp', reg.type === T.STACK || isKnownZero(reg));
        if (reg.type === T.SCALAR) env.precise([r]);
        return;
    }
  });
  return facts;
}

export { MAP_TYPE };
