// Instruction buffers with symbolic jump targets for the program generator: each function
// is emitted into its own Code, jumps and local calls name labels, and `link` lays the
// Codes out one after another (main first) and turns labels into relative offsets. A
// label always names the start of an instruction, so no jump can land on the second slot
// of an lddw.

import { LD_IMM64, type Insn } from '../../../core/isa.js';

export type RawInsn = Omit<Insn, 'pc'>;

interface Item {
  insn: RawInsn;
  /** Label whose slot this instruction jumps to or calls, written into `field`. */
  target?: number;
  field?: 'off' | 'imm';
}

export class Code {
  readonly items: Item[] = [];
  constructor(private readonly labels: Labels) {}

  emit(insn: RawInsn): void {
    this.items.push({ insn });
  }

  /** A jump (field 'off', or 'imm' for ja32) or local call (field 'imm') to a label. */
  emitTo(insn: RawInsn, target: number, field: 'off' | 'imm'): void {
    this.items.push({ insn, target, field });
  }

  /** Bind a label to the next instruction emitted here. */
  place(label: number): void {
    this.labels.bind(label, this, this.items.length);
  }
}

export class Labels {
  private readonly places: ({ code: Code; index: number } | undefined)[] = [];

  fresh(): number {
    this.places.push(undefined);
    return this.places.length - 1;
  }

  bind(label: number, code: Code, index: number): void {
    if (this.places[label]) throw new Error(`label ${label} bound twice`);
    this.places[label] = { code, index };
  }

  /** Lay out `codes` in order and resolve every label into a relative offset. */
  link(codes: readonly Code[]): Insn[] {
    const pcOf = new Map<Code, number[]>();
    let pc = 0;
    for (const code of codes) {
      const pcs: number[] = [];
      for (const item of code.items) {
        pcs.push(pc);
        pc += item.insn.opcode === LD_IMM64 ? 2 : 1;
      }
      pcs.push(pc); // a label placed after the last instruction
      pcOf.set(code, pcs);
    }
    const out: Insn[] = [];
    for (const code of codes) {
      const pcs = pcOf.get(code)!;
      code.items.forEach((item, i) => {
        const insn: Insn = { pc: pcs[i]!, ...item.insn };
        if (item.target !== undefined) {
          const place = this.places[item.target];
          if (!place) throw new Error(`label ${item.target} never placed`);
          const targetPc = pcOf.get(place.code)![place.index]!;
          insn[item.field!] = targetPc - (insn.pc + 1);
        }
        out.push(insn);
      });
    }
    return out;
  }
}
