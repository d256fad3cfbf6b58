// Linking one program, in libbpf's phases: lay out the entry function and every function it
// reaches (calls and bpf_loop callbacks, appended after it as libbpf appends `.text`
// subprograms), record every relocation as a fix-up with its target resolved, then apply
// the fix-ups to the copied code. Recording checks everything (undefined symbols, targets
// that are not code or not maps) before a byte is written, and applying is a plain loop.

import { type ElfFile, type ElfSymbol, R_BPF, SHF_EXECINSTR, SHN_UNDEF, STT, type Section } from './elf.js';
import { ObjectError } from '../core/errors.js';
import { CALL_KIND, CLASS, DecodeError, JMP, LD_IMM64, PSEUDO, SLOT, decode } from '../core/isa.js';
import type { FuncInfo, MapSpec, Program } from '../core/model.js';
import { KFUNCS, KFUNC_BY_NAME } from '../core/kfuncs.js';

const CALL = CLASS.JMP | JMP.CALL;

/** A function symbol's byte range inside its executable section. */
export interface Func {
  section: Section;
  name: string;
  start: number;
  end: number;
}

export type SourceLines = Map<string, Map<number, string>>;

/** What to write at one slot of the linked program. */
type Fixup =
  /** A local call (imm = slots to the target after the call) or a callback address (ld_imm64 BPF_PSEUDO_FUNC). */
  | { slot: number; kind: 'call' | 'callback'; targetSlot: number }
  /** ld_imm64 of a map (PSEUDO.MAP_IDX) or of an address inside global data (PSEUDO.MAP_IDX_VALUE). */
  | { slot: number; kind: 'map'; map: number }
  | { slot: number; kind: 'map-value'; map: number; offset: number }
  /** A call to a kfunc bpf2wasm runs: `call kfunc <id>` (core/kfuncs.ts). */
  | { slot: number; kind: 'kfunc'; id: number };

export function symbolsIn(elf: ElfFile, shndx: number): ElfSymbol[] {
  return elf.symbols.filter((s) => s.shndx === shndx && s.name !== '' && s.type !== STT.SECTION).sort((a, b) => a.value - b.value);
}

export function functionsOf(elf: ElfFile, section: Section): Func[] {
  const syms = symbolsIn(elf, section.index).filter((s) => s.type === STT.FUNC);
  return syms.map((s, i) => ({
    section,
    name: s.name,
    start: s.value,
    end: s.size > 0 ? s.value + s.size : (syms[i + 1]?.value ?? section.size),
  }));
}

const dataView = (s: Section): DataView => new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
const funcKey = (f: Func): string => `${f.section.index}:${f.start}`;

/** Relocations of the object by (section, byte offset). */
class Relocations {
  private readonly bySection = new Map<number, Map<number, { type: number; sym: ElfSymbol }>>();
  constructor(private readonly elf: ElfFile) {}

  at(section: Section, offset: number): { type: number; sym: ElfSymbol } | undefined {
    let byOffset = this.bySection.get(section.index);
    if (!byOffset) {
      byOffset = new Map(
        (this.elf.relocations.get(section.index) ?? []).map((r) => [r.offset, { type: r.type, sym: this.elf.symbols[r.symbol]! }]),
      );
      this.bySection.set(section.index, byOffset);
    }
    return byOffset.get(offset);
  }
}

class Linker {
  private readonly relocs: Relocations;
  /** The entry first, then each reached function in discovery order, with its first slot. */
  private readonly pieces: { func: Func; base: number }[];
  private readonly placed = new Map<string, number>();

  constructor(
    private readonly elf: ElfFile,
    main: Func,
    private readonly maps: readonly MapSpec[],
    private readonly source: string,
    /** Names of the kernel functions the object declares (__ksym), refused by name. */
    private readonly kfuncs: ReadonlySet<string>,
  ) {
    this.relocs = new Relocations(elf);
    this.pieces = [{ func: main, base: 0 }];
    this.placed.set(funcKey(main), 0);
  }

  /** Every slot of every piece: (piece, byte offset in its section, slot in the program, opcode, src). */
  private *slots(): Generator<{ piece: Func; at: number; slot: number; op: number; src: number; view: DataView }> {
    for (let p = 0; p < this.pieces.length; p++) {
      const { func: piece, base } = this.pieces[p]!;
      const view = dataView(piece.section);
      for (let at = piece.start; at < piece.end; at += SLOT) {
        const op = view.getUint8(at);
        yield { piece, at, slot: base + (at - piece.start) / SLOT, op, src: view.getUint8(at + 1) >> 4, view };
        if (op === LD_IMM64) at += SLOT;
      }
    }
  }

  /** A callback address (bpf_loop): ld_imm64 with BPF_PSEUDO_FUNC, or — as clang emits it — a plain ld_imm64 relocated against code. */
  private isCallback(piece: Func, at: number, op: number, src: number): boolean {
    if (op !== LD_IMM64) return false;
    if (src === PSEUDO.FUNC) return true;
    const rel = this.relocs.at(piece.section, at);
    const target = rel && rel.sym.shndx !== SHN_UNDEF ? this.elf.sections[rel.sym.shndx] : undefined;
    return !!target && (target.flags & SHF_EXECINSTR) !== 0;
  }

  /** The function a call or callback at `at` lands on. */
  private target(piece: Func, at: number, view: DataView, where: string): Func {
    const isSlot = view.getUint8(at) === LD_IMM64;
    const imm = view.getInt32(at + 4, true);
    const rel = this.relocs.at(piece.section, at);
    let section = piece.section;
    let offset = at + SLOT + imm * SLOT;
    if (!rel) {
      if (isSlot) throw new ObjectError(where, 'callback address without a relocation');
    } else {
      if (rel.sym.shndx === SHN_UNDEF) {
        throw new ObjectError(where, `call to undefined function '${rel.sym.name}'`);
      }
      const s = this.elf.sections[rel.sym.shndx];
      if (!s || !(s.flags & SHF_EXECINSTR)) throw new ObjectError(where, `call target '${rel.sym.name}' is not code`);
      section = s;
      // Calls: imm counts instructions after the call; callbacks (ld_imm64): imm counts bytes.
      offset = isSlot ? rel.sym.value + imm : rel.sym.value + (imm + 1) * SLOT;
    }
    const fn = functionsOf(this.elf, section).find((f) => f.start === offset);
    if (fn) return fn;
    if (offset < 0 || offset >= section.size || offset % SLOT !== 0)
      throw new ObjectError(where, `call target offset ${offset} is outside ${section.name}`);
    return { section, name: `${section.name}+${offset}`, start: offset, end: section.size };
  }

  private where(piece: Func, slot: number): string {
    return `${this.source}: ${piece.section.name}: instruction ${slot}`;
  }

  /** Phase 1: every function reachable from the entry, each placed after the previous one. */
  layOut(): void {
    for (const { piece, at, slot, op, src, view } of this.slots()) {
      if (op === CALL && (src === CALL_KIND.LOCAL || src === CALL_KIND.KFUNC) && this.kfuncCalled(piece, at, src, view, slot)) continue;
      if (!((op === CALL && src === CALL_KIND.LOCAL) || this.isCallback(piece, at, op, src))) continue;
      const fn = this.target(piece, at, view, this.where(piece, slot));
      if (this.placed.has(funcKey(fn))) continue;
      const last = this.pieces[this.pieces.length - 1]!;
      const base = last.base + (last.func.end - last.func.start) / SLOT;
      this.placed.set(funcKey(fn), base);
      this.pieces.push({ func: fn, base });
    }
  }

  /**
   * The kfunc a call at `at` makes, or undefined for any other call: clang emits a kfunc
   * call as a local call relocated against the undefined __ksym symbol; an object libbpf
   * has rewritten (or a hand-made one) carries BPF_PSEUDO_KFUNC_CALL. Throws, naming it,
   * for a kfunc bpf2wasm does not run.
   */
  private kfuncCalled(piece: Func, at: number, src: number, view: DataView, slot: number): { id: number } | undefined {
    const rel = this.relocs.at(piece.section, at);
    const name = rel && rel.sym.shndx === SHN_UNDEF ? rel.sym.name : undefined;
    if (src === CALL_KIND.KFUNC) {
      if (name === undefined) throw kfuncError(this.where(piece, slot), `with BTF id ${view.getInt32(at + 4, true)}`);
    } else if (name === undefined || !this.kfuncs.has(name)) {
      return undefined;
    }
    const kfunc = KFUNC_BY_NAME.get(name);
    if (!kfunc) throw kfuncError(this.where(piece, slot), `'${name}'`);
    return kfunc;
  }

  /** Phase 2: the fix-up each relocated or local-call slot needs, all checked. */
  record(): Fixup[] {
    const fixups: Fixup[] = [];
    for (const { piece, at, slot, op, src, view } of this.slots()) {
      const where = this.where(piece, slot);
      const kfunc =
        op === CALL && (src === CALL_KIND.LOCAL || src === CALL_KIND.KFUNC) ? this.kfuncCalled(piece, at, src, view, slot) : undefined;
      if (kfunc) {
        fixups.push({ slot, kind: 'kfunc', id: kfunc.id });
        continue;
      }
      const callback = this.isCallback(piece, at, op, src);
      if ((op === CALL && src === CALL_KIND.LOCAL) || callback) {
        const targetSlot = this.placed.get(funcKey(this.target(piece, at, view, where)))!;
        fixups.push({ slot, kind: callback ? 'callback' : 'call', targetSlot });
        continue;
      }
      const rel = this.relocs.at(piece.section, at);
      if (op === LD_IMM64) {
        if (rel) fixups.push(this.dataReference(rel, slot, view.getInt32(at + 4, true), where));
      } else if (rel && rel.type !== R_BPF.NONE) {
        throw new ObjectError(where, `relocation against '${rel.sym.name}' on an instruction that is neither ld_imm64 nor a call`);
      }
    }
    return fixups;
  }

  /** ld_imm64 referring to a map or into global data; `addend` is the instruction's imm. */
  private dataReference(rel: { type: number; sym: ElfSymbol }, slot: number, addend: number, where: string): Fixup {
    const { sym } = rel;
    if (rel.type !== R_BPF.R64_64) throw new ObjectError(where, `unsupported relocation type ${rel.type} on ld_imm64`);
    if (sym.shndx === SHN_UNDEF) throw new ObjectError(where, `reference to undefined symbol '${sym.name}'`);
    const section = this.elf.sections[sym.shndx];
    if (!section) throw new ObjectError(where, `symbol '${sym.name}' is in section #${sym.shndx}, which does not exist`);
    if (section.name === '.maps' || section.name === 'maps') {
      const map = this.maps.findIndex((m) => m.name === sym.name && m.section === section.name);
      if (map < 0) throw new ObjectError(where, `reference to '${sym.name}', which is not a map`);
      return { slot, kind: 'map', map };
    }
    const map = this.maps.findIndex((m) => m.section === section.name && m.initialData !== undefined);
    if (map < 0) throw new ObjectError(where, `reference to '${sym.name}' in section ${section.name}, which holds no map or global data`);
    const offset = (sym.type === STT.SECTION ? 0 : sym.value) + addend;
    if (offset < 0 || offset >= this.maps[map]!.valueSize) throw new ObjectError(where, `offset ${offset} is outside ${section.name}`);
    return { slot, kind: 'map-value', map, offset };
  }

  /** Phase 3: copy the pieces and apply the fix-ups. */
  apply(fixups: readonly Fixup[]): Uint8Array {
    const last = this.pieces[this.pieces.length - 1]!;
    const image = new Uint8Array((last.base + (last.func.end - last.func.start) / SLOT) * SLOT);
    for (const { func, base } of this.pieces) image.set(func.section.data.subarray(func.start, func.end), base * SLOT);
    const out = new DataView(image.buffer);
    const setSrc = (w: number, src: number): void => out.setUint8(w + 1, (out.getUint8(w + 1) & 0x0f) | (src << 4));
    for (const f of fixups) {
      const w = f.slot * SLOT;
      switch (f.kind) {
        case 'call':
          out.setInt32(w + 4, f.targetSlot - (f.slot + 1), true);
          break;
        case 'callback':
          setSrc(w, PSEUDO.FUNC);
          out.setInt32(w + 4, f.targetSlot - (f.slot + 1), true);
          out.setInt32(w + 12, 0, true);
          break;
        case 'map':
          setSrc(w, PSEUDO.MAP_IDX);
          out.setInt32(w + 4, f.map, true);
          out.setInt32(w + 12, 0, true);
          break;
        case 'map-value':
          setSrc(w, PSEUDO.MAP_IDX_VALUE);
          out.setInt32(w + 4, f.map, true);
          out.setInt32(w + 12, f.offset, true);
          break;
        case 'kfunc':
          setSrc(w, CALL_KIND.KFUNC);
          out.setInt32(w + 4, f.id, true);
          break;
      }
    }
    return image;
  }

  funcs(): FuncInfo[] {
    return this.pieces.map(({ func, base }) => ({ name: func.name, start: base }));
  }

  /** Source lines (.BTF.ext line_info) by slot of the linked program, for messages. */
  lines(lines: SourceLines | undefined): Map<number, string> {
    const out = new Map<number, string>();
    for (const { func, base } of this.pieces) {
      for (const [offset, text] of lines?.get(func.section.name) ?? []) {
        if (offset >= func.start && offset < func.end) out.set(base + (offset - func.start) / SLOT, text);
      }
    }
    return out;
  }
}

/** Most kfuncs reach into kernel state (conntrack, sockets, kernel buffers) userspace has not got. */
function kfuncError(where: string, kfunc: string): ObjectError {
  const supported = KFUNCS.map((k) => k.name).join(', ');
  return new ObjectError(where, `call to kfunc ${kfunc}: kfuncs are kernel functions, not supported in userspace (except ${supported})`);
}

/** Lays out `main` and every function it reaches, records the relocations, applies them. */
export function link(
  elf: ElfFile,
  main: Func,
  maps: readonly MapSpec[],
  source: string,
  kfuncs: ReadonlySet<string> = new Set(),
  lines?: SourceLines,
): Program {
  const linker = new Linker(elf, main, maps, source, kfuncs);
  linker.layOut();
  const image = linker.apply(linker.record());
  let insns;
  try {
    insns = decode(image);
  } catch (e) {
    if (e instanceof DecodeError)
      throw new ObjectError(`${source}: ${main.section.name}: program ${main.name}: instruction ${e.pc}`, e.message);
    throw e;
  }
  const programLines = linker.lines(lines);
  return {
    name: main.name,
    section: main.section.name,
    insns,
    funcs: linker.funcs(),
    ...(programLines.size ? { lines: programLines } : {}),
  };
}
