// What every part of the path walk shares: the program, its maps and functions, and a
// way to refuse it at the instruction being checked.

import type { Insn } from '../../core/isa.js';
import type { MapSpec } from '../../core/model.js';
import type { FunctionFlow } from './flow.js';
import type { HelperSpec } from './structure-dataflow.js';

export interface Env {
  readonly insns: readonly Insn[];
  readonly maps: readonly MapSpec[];
  readonly functions: readonly FunctionFlow[];
  readonly helpers: ReadonlyMap<number, HelperSpec>;
  /** ELF section of the program (xdp/devmap programs may read egress_ifindex). */
  readonly section: string;
  /** A fresh id for a new or-null pointer, packet pointer with variable offset or scalar link. */
  newId(): number;
  /** Record that function `fn` uses `depth` bytes of its frame. */
  noteStack(fn: number, depth: number): void;
  /**
   * The instruction being checked uses these registers of the current frame (and stack
   * slots: [frame, slot]) in a way that matters (precision.ts): trace where they came from.
   */
  /** Stack slots lo..hi of frame `frame` are read: their contents matter (read marks, interp.ts). */
  stackRead(frame: number, lo: number, hi: number): void;
  /** Stack slot `slot` of frame `frame` is overwritten whole. */
  stackWritten(frame: number, slot: number): void;
  precise(regnos: readonly number[], slots?: readonly (readonly [number, number])[]): void;
}
