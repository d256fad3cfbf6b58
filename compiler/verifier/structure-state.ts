// The abstract state the verifier's dataflow carries through a function: what each
// register holds, which bytes of the 512-byte stack frame are written on every path, and
// which 8-byte stack slots hold a spilled pointer we still know. The lattice is shallow
// (specific value > initialised-but-unknown > uninitialised), so the worklist converges in
// a few passes even around loops.

import type { MapSpec } from '../../core/model.js';

export const STACK_SIZE = 512;

export const Kind = {
  /** Not written on some path. */
  Uninit: 0,
  /** Written, nothing more known (scalars, packet/map-value/context pointers). */
  Init: 1,
  /** A known scalar (safe-integer range only). */
  Const: 2,
  /** r10 + n: a pointer into this function's stack frame. */
  Stack: 3,
  /** A map handle (`lddw map`, or an inner map from a map-of-maps lookup; may be NULL then). */
  Map: 4,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export interface Value {
  readonly kind: Kind;
  /** Const: the value; Stack: the offset from r10. */
  readonly n: number;
  readonly map?: MapSpec;
}

export const UNINIT: Value = Object.freeze({ kind: Kind.Uninit, n: 0 });
export const INIT: Value = Object.freeze({ kind: Kind.Init, n: 0 });
export const constant = (n: number | bigint): Value => (typeof n === 'number' && Number.isSafeInteger(n) ? { kind: Kind.Const, n } : INIT);
export const stackPointer = (n: number): Value => (Number.isSafeInteger(n) ? { kind: Kind.Stack, n } : INIT);
export const mapHandle = (map: MapSpec): Value => ({ kind: Kind.Map, n: 0, map });

function joinValue(a: Value, b: Value): Value {
  if (a === b) return a;
  if (a.kind === Kind.Uninit || b.kind === Kind.Uninit) return UNINIT;
  if (a.kind === b.kind && a.n === b.n && a.map === b.map) return a;
  return INIT;
}

const sameValue = (a: Value | undefined, b: Value | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.kind === b.kind && a.n === b.n && a.map === b.map);

export class State {
  constructor(
    readonly regs: Value[],
    /** stack[STACK_SIZE + offset] is 1 when the byte at r10 + offset is initialised. */
    readonly stack: Uint8Array,
    /** spills[(STACK_SIZE + offset) / 8]: the pointer stored by an aligned 8-byte store there. */
    readonly spills: (Value | undefined)[],
  ) {}

  /** At a function's entry: r1-r5 are arguments, r10 the frame pointer, the rest unset. */
  static entry(): State {
    const regs = new Array<Value>(11).fill(UNINIT);
    for (let r = 1; r <= 5; r++) regs[r] = INIT;
    regs[10] = stackPointer(0);
    return new State(regs, new Uint8Array(STACK_SIZE), new Array(STACK_SIZE / 8).fill(undefined));
  }

  clone(): State {
    return new State([...this.regs], this.stack.slice(), [...this.spills]);
  }

  /** Meet `other` into this state (what holds on both paths); true if anything changed. */
  joinFrom(other: State): boolean {
    let changed = false;
    for (let r = 0; r < this.regs.length; r++) {
      const v = joinValue(this.regs[r]!, other.regs[r]!);
      if (v !== this.regs[r]) {
        if (!sameValue(v, this.regs[r])) changed = true;
        this.regs[r] = v;
      }
    }
    for (let i = 0; i < STACK_SIZE; i++) {
      if (this.stack[i] && !other.stack[i]) {
        this.stack[i] = 0;
        changed = true;
      }
    }
    for (let i = 0; i < this.spills.length; i++) {
      if (this.spills[i] !== undefined && !sameValue(this.spills[i], other.spills[i])) {
        this.spills[i] = undefined;
        changed = true;
      }
    }
    return changed;
  }

  /** True when bytes [offset, offset + size) of the frame are all initialised. */
  initialised(offset: number, size: number): boolean {
    for (let i = STACK_SIZE + offset; i < STACK_SIZE + offset + size; i++) if (!this.stack[i]) return false;
    return true;
  }

  /** First uninitialised byte's offset in [offset, offset + size), if any. */
  firstUninitialised(offset: number, size: number): number | undefined {
    for (let i = offset; i < offset + size; i++) if (!this.stack[STACK_SIZE + i]) return i;
    return undefined;
  }

  /** Record a write of `size` bytes at r10 + offset (spilled pointers there are lost). */
  write(offset: number, size: number): void {
    this.stack.fill(1, STACK_SIZE + offset, STACK_SIZE + offset + size);
    const firstSlot = Math.floor((STACK_SIZE + offset) / 8);
    const lastSlot = Math.floor((STACK_SIZE + offset + size - 1) / 8);
    for (let s = firstSlot; s <= lastSlot; s++) this.spills[s] = undefined;
  }

  /** A value an aligned 8-byte store put at r10 + offset, when still known. */
  spilled(offset: number): Value | undefined {
    return (STACK_SIZE + offset) % 8 === 0 ? this.spills[(STACK_SIZE + offset) / 8] : undefined;
  }

  spill(offset: number, value: Value): void {
    if ((STACK_SIZE + offset) % 8 === 0) this.spills[(STACK_SIZE + offset) / 8] = value;
  }
}
