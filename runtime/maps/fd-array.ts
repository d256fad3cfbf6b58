// Arrays whose slots refer to other objects and may be empty: PROG_ARRAY (program
// indexes, for tail calls), ARRAY_OF_MAPS (inner map handles), DEVMAP, CPUMAP and XSKMAP
// (ifindexes / queue sizes / socket ids for redirects; devmap and cpumap values may name a
// second program, redirect-value.ts). Only the control plane writes them, as in the
// kernel, where programs may not update these maps. Each slot is 8 bytes of presence
// word (u32 1 = set) and padding, then the value padded to 8 bytes; a program's lookup
// gets the value's address (devmap, xskmap) or, for ARRAY_OF_MAPS, the inner handle itself
// (the kernel hands out the inner map pointer).
//
//   descriptor word 10 storage   word 11 slot size

import { FD_ARRAY_DESC, FD_ARRAY_VALUE_OFF } from '../../core/map-layout.js';
import { align } from '../../core/abi.js';
import { MAP_TYPE, type MapShape } from '../../core/map-types.js';
import { innerMapMismatch, readInnerTemplate } from './inner-template.js';
import type { SharedHeap } from '../memory.js';
import { BaseMap, BPF_ANY, BPF_EXIST, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, ENOMEM, FROM_USER, flagsOf } from './base.js';
import { ERRNO } from '../../core/errno.js';
import { checkProgramWord, missingDevice } from './redirect-value.js';

/** The kernel's sanity limit on a cpumap entry's queue size (cpu_map_update_elem). */
const CPUMAP_MAX_QSIZE = 16384;
import { isPublished, type MapSpecLike } from './descriptor.js';

// The layout is part of the ABI (compiler/abi.ts): compiled modules read map-in-map slots.
const STORAGE = FD_ARRAY_DESC.STORAGE;
const SLOT = FD_ARRAY_DESC.SLOT;
const VALUE_OFF = FD_ARRAY_VALUE_OFF;

export function initFdArray(heap: SharedHeap, handle: number, spec: MapSpecLike): number {
  const slot = VALUE_OFF + align(Math.max(spec.valueSize, 1), 8);
  const storage = heap.alloc(slot * spec.maxEntries, 64);
  if (!storage) return ENOMEM;
  const i32 = heap.view.i32;
  i32[(handle >>> 2) + STORAGE] = storage;
  i32[(handle >>> 2) + SLOT] = slot;
  return 0;
}

export class FdArrayMap extends BaseMap {
  readonly storage: number;
  readonly slot: number;
  private readonly type: number;
  /** ARRAY_OF_MAPS: what a map must be to go into a slot. */
  private readonly innerTemplate?: MapShape;

  constructor(memory: WebAssembly.Memory, handle: number) {
    super(memory, handle);
    this.storage = this.word(STORAGE);
    this.slot = this.word(SLOT);
    this.type = this.spec.type;
    const template = this.type === MAP_TYPE.ARRAY_OF_MAPS ? this.word(FD_ARRAY_DESC.INNER_TEMPLATE) : 0;
    if (template) this.innerTemplate = readInnerTemplate(this.v.i32, template);
  }

  /** The u32 value in slot `index` (program index, inner handle, ifindex, qsize), or -1 if empty. */
  target(index: number): number {
    if (index >= this.maxEntries || index < 0) return -1;
    const v = this.v;
    v.fresh();
    const at = this.storage + index * this.slot;
    if (Atomics.load(v.i32, at >>> 2) !== 1) return -1;
    return v.u32[(at + VALUE_OFF) >>> 2]!;
  }

  /** The second word of slot `index` of a devmap or cpumap with 8-byte values: its program id, 0 for none. */
  programId(index: number): number {
    if (this.valueSize < 8 || index >= this.maxEntries || index < 0) return 0;
    const at = this.storage + index * this.slot;
    return Atomics.load(this.v.i32, at >>> 2) === 1 ? this.v.u32[(at + VALUE_OFF + 4) >>> 2]! : 0;
  }

  lookup(keyAddr: number, _cpu = 0): number {
    // The kernel's verifier lets programs use a cpumap only through bpf_redirect_map.
    if (this.type === MAP_TYPE.CPUMAP) return 0;
    const v = this.v;
    v.ensure(keyAddr, 4);
    const index = v.dv.getUint32(keyAddr, true);
    if (index >= this.maxEntries) return 0;
    const at = this.storage + index * this.slot;
    if (v.i32[at >>> 2] !== 1) return 0;
    switch (this.type) {
      case MAP_TYPE.ARRAY_OF_MAPS:
        return v.u32[(at + VALUE_OFF) >>> 2]!;
      case MAP_TYPE.PROG_ARRAY:
        return 0; // programs only tail-call through it
      default:
        return at + VALUE_OFF;
    }
  }

  protected override userLookup(keyAddr: number): number {
    const index = this.v.dv.getUint32(keyAddr, true);
    if (index >= this.maxEntries) return 0;
    const at = this.storage + index * this.slot;
    return this.v.i32[at >>> 2] === 1 ? at + VALUE_OFF : 0;
  }

  update(keyAddr: number, valueAddr: number, flags: bigint | number, cpu: number): number {
    if (cpu !== FROM_USER) return EINVAL;
    const f = flagsOf(flags);
    const v = this.v;
    v.ensure(keyAddr, 4);
    v.ensure(valueAddr, this.valueSize);
    const index = v.dv.getUint32(keyAddr, true);
    // Prog arrays and map-in-maps take BPF_ANY only; devmaps and xskmaps the usual flags.
    const fdArray = this.type === MAP_TYPE.PROG_ARRAY || this.type === MAP_TYPE.ARRAY_OF_MAPS;
    if (fdArray ? f !== BPF_ANY : f > BPF_EXIST) return EINVAL;
    if (index >= this.maxEntries) return E2BIG;
    const at = this.storage + index * this.slot;
    const present = v.i32[at >>> 2] === 1;
    if (this.type === MAP_TYPE.DEVMAP || this.type === MAP_TYPE.CPUMAP) {
      // Every devmap and cpumap slot counts as existing; ifindex / qsize 0 empties the slot.
      if (f === BPF_NOEXIST) return EEXIST;
      const r = this.type === MAP_TYPE.CPUMAP ? this.cpumapCheck(index, valueAddr) : this.devmapCheck(valueAddr);
      if (r) return r;
    } else {
      if (present && f === BPF_NOEXIST) return EEXIST;
      if (!present && f === BPF_EXIST) return ENOENT;
    }
    if (this.type === MAP_TYPE.ARRAY_OF_MAPS) {
      const inner = v.dv.getUint32(valueAddr, true);
      if (!isPublished(v.i32, inner)) return EINVAL;
      this.refusal = this.innerTemplate ? innerMapMismatch(v.i32, this.innerTemplate, inner) : undefined;
      if (this.refusal) return EINVAL;
    }
    // Clear the presence word while the value changes so a racing reader skips the slot.
    Atomics.store(v.i32, at >>> 2, 0);
    v.u8.copyWithin(at + VALUE_OFF, valueAddr, valueAddr + this.valueSize);
    const empty = (this.type === MAP_TYPE.DEVMAP || this.type === MAP_TYPE.CPUMAP) && v.dv.getUint32(valueAddr, true) === 0;
    if (!empty) Atomics.store(v.i32, at >>> 2, 1);
    return 0;
  }

  /** cpu_map_update_elem's checks after the flags and the index, in its order. */
  private cpumapCheck(cpu: number, valueAddr: number): number {
    const qsize = this.v.dv.getUint32(valueAddr, true);
    if (qsize > CPUMAP_MAX_QSIZE) return -ERRNO.EOVERFLOW;
    if (cpu >= this.heap.maxCpus) return -ERRNO.ENODEV; // not a possible CPU (--max-cpus)
    if (qsize === 0 || this.valueSize < 8) return 0; // a delete; or no program word
    return this.programCheck(valueAddr);
  }

  /** A devmap value: no program without a device, and only a devmap program. */
  private devmapCheck(valueAddr: number): number {
    const dv = this.v.dv;
    const ifindex = dv.getUint32(valueAddr, true);
    if (ifindex === 0) {
      if (this.valueSize < 8 || dv.getInt32(valueAddr + 4, true) <= 0) return 0;
      this.refusal = 'a devmap entry with a program needs an ifindex';
      return EINVAL;
    }
    // __dev_map_alloc_node: the device first, then the program.
    this.refusal = missingDevice(ifindex);
    if (this.refusal) return EINVAL;
    return this.valueSize < 8 ? 0 : this.programCheck(valueAddr);
  }

  private programCheck(valueAddr: number): number {
    const r = checkProgramWord(this.memory, this.v.dv, valueAddr, this.type);
    if (r) this.refusal = `the value's program must be one in an xdp/${this.type === MAP_TYPE.CPUMAP ? 'cpumap' : 'devmap'} section`;
    return r;
  }

  delete(keyAddr: number, fromUser = false): number {
    if (!fromUser) return EINVAL;
    const v = this.v;
    v.ensure(keyAddr, 4);
    const index = v.dv.getUint32(keyAddr, true);
    const fdArray = this.type === MAP_TYPE.PROG_ARRAY || this.type === MAP_TYPE.ARRAY_OF_MAPS;
    if (index >= this.maxEntries) return fdArray ? E2BIG : EINVAL;
    const at = this.storage + index * this.slot;
    const was = Atomics.exchange(v.i32, at >>> 2, 0);
    // The kernel's devmap and xskmap report success for an empty slot.
    return was === 1 || !fdArray ? 0 : ENOENT;
  }

  getNextKey(keyAddr: number, nextKeyAddr: number): number {
    return this.indexNextKey(keyAddr, nextKeyAddr);
  }

  override count(): number {
    let n = 0;
    for (let i = 0; i < this.maxEntries; i++) if (this.target(i) >= 0) n++;
    return n;
  }

  protected override reason(op: string, result: number): string | undefined {
    if (result === EINVAL && op === 'update' && this.type === MAP_TYPE.ARRAY_OF_MAPS) {
      return 'flags must be BPF_ANY and the value must be the handle of a map';
    }
    if (result === EINVAL && op === 'update' && this.type === MAP_TYPE.PROG_ARRAY) return 'flags must be BPF_ANY';
    if (result === E2BIG) return `index out of range (max_entries ${this.maxEntries})`;
    if (result === -ERRNO.EOVERFLOW) return `a cpumap queue holds at most ${CPUMAP_MAX_QSIZE} frames`;
    if (result === -ERRNO.ENODEV) return `no CPU ${this.heap.maxCpus} or above here (--max-cpus ${this.heap.maxCpus})`;

    return super.reason(op, result);
  }
}
