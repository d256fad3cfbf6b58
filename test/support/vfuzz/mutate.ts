// Mutations of one instruction, aimed at memory safety, applied in place to a copy of the
// seed's ELF file: only the fields a mutation changes are written over the file's own
// bytes (which, for ld_imm64 and calls, differ from the linked program's), no instruction
// moves, so every relocation still applies. A mutant whose instruction is not a valid
// encoding is dropped: it would test the decoder, not the verifier.

import { CLASS, JMP, MODE, SIZE, SLOT, disasm, insnClass, memSize, type Insn } from '../../../core/isa.js';
import { encodingProblem } from '../../../compiler/verifier/encoding.js';
import type { Rng } from '../fuzz/rng.js';
import type { SeedProgram } from './seeds.js';
import { Sites, baseReg } from './sites.js';

export const KINDS = [
  'drop-bounds-check',
  'widen-offset',
  'swap-register',
  'break-null-check',
  'unbounded-loop',
  'helper-size',
  'stack-offset',
  'ctx-offset',
  'ctx-store',
] as const;
export type Kind = (typeof KINDS)[number];

/** The fields of one slot a mutation overwrites. */
type Change = Partial<Pick<Insn, 'opcode' | 'dst' | 'src' | 'off' | 'imm'>>;

export interface Mutant {
  kind: Kind;
  sp: SeedProgram;
  slot: number;
  before: string;
  after: string;
  /** The seed's file with the slot patched. */
  bytes: Uint8Array;
  /** Identifies the mutant (seed, program, slot, new bytes) to avoid testing it twice. */
  key: string;
}

const JA = CLASS.JMP | JMP.JA;
const SIZES = [SIZE.B, SIZE.H, SIZE.W, SIZE.DW];
const int16 = (n: number): boolean => n >= -0x8000 && n <= 0x7fff;

/** Candidate positions for each kind in one program. */
export function candidates(sites: Sites, kind: Kind): number[] {
  switch (kind) {
    case 'drop-bounds-check':
      return sites.boundsChecks();
    case 'widen-offset':
      return sites.memory();
    case 'swap-register':
      return [...sites.memory(), ...sites.helperArgs()];
    case 'break-null-check':
      return sites.nullChecks();
    case 'unbounded-loop':
      return sites.jumps();
    case 'helper-size':
      return sites.helperImmediates();
    case 'stack-offset':
      return sites.stackAccesses();
    case 'ctx-offset':
    case 'ctx-store':
      return sites.ctxLoads();
  }
}

/** The change `kind` makes to the instruction at `pos`, or undefined when it cannot apply. */
function change(sites: Sites, kind: Kind, pos: number, rng: Rng): Change | undefined {
  const i = sites.insns[pos]!;
  const cls = insnClass(i.opcode);
  switch (kind) {
    case 'drop-bounds-check':
    case 'break-null-check':
      // The check's jump is never taken (a nop: ja +0) or always (ja to its target).
      return { opcode: JA, dst: 0, src: 0, imm: 0, off: rng.chance(0.7) ? 0 : i.off };
    case 'widen-offset': {
      const off = i.off + rng.int(1, 64);
      return int16(off) ? { off } : undefined;
    }
    case 'swap-register': {
      const memory = cls === CLASS.LDX || cls === CLASS.ST || cls === CLASS.STX;
      if (!memory || (sites.helperArgs().includes(pos) && rng.chance(0.5))) {
        // A helper argument lands in another argument register.
        const dst = rng.pick([1, 2, 3, 4, 5].filter((r) => r !== i.dst));
        return { dst };
      }
      const field = cls === CLASS.ST ? 'dst' : rng.pick(['dst', 'src'] as const);
      const reg = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((r) => r !== i[field]));
      return { [field]: reg };
    }
    case 'unbounded-loop': {
      const lowest = Math.max(0, i.pc - 24);
      const targets = sites.insns.filter((t) => t.pc >= lowest && t.pc <= i.pc).map((t) => t.pc);
      const target = rng.pick(targets);
      // Existing back-edges may also lose their exit: the loop condition becomes ja.
      if (i.off < 0 && rng.chance(0.3)) return { opcode: JA, dst: 0, src: 0, imm: 0 };
      return { off: target - i.pc - 1 };
    }
    case 'helper-size': {
      const imm = rng.pick([i.imm + rng.int(1, 64), i.imm - rng.int(1, 8), i.imm * 2, 0, -1, 512, 4096, 1 << 20]);
      return { imm: imm | 0 };
    }
    case 'stack-offset':
      if (cls === CLASS.ALU64) return { imm: -512 - rng.int(1, 64) };
      return { off: -512 - rng.int(1, 64) };
    case 'ctx-offset': {
      const c: Change = { off: rng.int(0, 47) };
      if (rng.chance(0.3)) c.opcode = (i.opcode & ~0x18) | rng.pick(SIZES);
      return c;
    }
    case 'ctx-store': {
      const size = memSize(i.opcode);
      const base = baseReg(i);
      // A constant (st) or a register (stx: the context pointer itself) written to the context.
      if (rng.chance(0.6)) return { opcode: CLASS.ST | MODE.MEM | size, dst: base, src: 0, imm: rng.int(-4, 1000) };
      return { opcode: CLASS.STX | MODE.MEM | size, dst: base, src: base, imm: 0 };
    }
  }
}

/** One random mutant of kind `kind` at one of the program's candidate positions, or undefined. */
export function mutate(sp: SeedProgram, sites: Sites, kind: Kind, rng: Rng): Mutant | undefined {
  const positions = candidates(sites, kind);
  if (positions.length === 0) return undefined;
  const pos = rng.pick(positions);
  const original = sites.insns[pos]!;
  const c = change(sites, kind, pos, rng);
  if (!c) return undefined;
  const bytes = sp.seed.bytes.slice();
  const at = sp.fileOffset + original.pc * SLOT;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (c.opcode !== undefined) view.setUint8(at, c.opcode);
  const regs = view.getUint8(at + 1);
  view.setUint8(at + 1, ((c.dst ?? regs & 0x0f) & 0x0f) | (((c.src ?? regs >> 4) & 0x0f) << 4));
  if (c.off !== undefined) view.setInt16(at + 2, c.off, true);
  if (c.imm !== undefined) view.setInt32(at + 4, c.imm, true);
  const patched = bytes.subarray(at, at + SLOT);
  if (patched.every((b, k) => b === sp.seed.bytes[at + k])) return undefined;
  // The linked instruction with the same fields changed: what the verifiers will see.
  const after: Insn = { ...original, ...c };
  if (encodingProblem(after, { maps: sp.seed.object.maps, allowCallx: false }) !== undefined) return undefined;
  return {
    kind,
    sp,
    slot: original.pc,
    before: disasm(original),
    after: disasm(after),
    bytes,
    key: `${sp.seed.name}:${sp.program.name}:${original.pc}:${Buffer.from(patched).toString('hex')}`,
  };
}

/** A one-line description of a mutant for messages. */
export const describe = (m: Mutant): string => `${m.sp.seed.name} ${m.sp.program.name} slot ${m.slot} ${m.kind}: ${m.before} -> ${m.after}`;
