// ELF64 little-endian EM_BPF objects: header checks, sections, symbols and relocation
// records. Section names and contents come from the `elfy` package; everything elfy gets
// wrong for BPF objects (machine, symbols, relocations, NOBITS data) is decoded here from
// the raw bytes, and every offset is bounds-checked so that malformed input becomes one
// ObjectError rather than a crash.

import elfy from 'elfy';
import { ObjectError } from '../core/errors.js';

export const EM_BPF = 247;
export const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8, REL: 9 } as const;
export const SHF_EXECINSTR = 0x4;
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
export const SHN_UNDEF = 0;
export const R_BPF = { NONE: 0, R64_64: 1, ABS64: 2, ABS32: 3, NODYLD32: 4, R64_32: 10 } as const;

export interface Section {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  /** File bytes (zeros for NOBITS). */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  name: string;
  type: number;
  bind: number;
  shndx: number;
  value: number;
  size: number;
}

export interface Relocation {
  offset: number;
  type: number;
  symbol: number;
}

export interface ElfFile {
  sections: Section[];
  symbols: ElfSymbol[];
  /** Relocations by the index of the section they patch. */
  relocations: Map<number, Relocation[]>;
  byName(name: string): Section | undefined;
}

const FILE = 'ELF header';
/** The kernel caps a map value at KMALLOC_MAX_SIZE; no real .bss comes near this. */
const MAX_NOBITS = 64 << 20;

export function parseElf(bytes: Uint8Array, label: string): ElfFile {
  const where = (w: string): string => `${label}: ${w}`;
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ObjectError(where(FILE), 'not an ELF file');
  }
  if (bytes[4] !== 2) throw new ObjectError(where(FILE), 'not a 64-bit ELF file (eBPF objects are ELF64)');
  if (bytes[5] !== 1) throw new ObjectError(where(FILE), 'big-endian ELF; only little-endian eBPF objects are supported');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const machine = view.getUint16(18, true);
  if (machine !== EM_BPF) throw new ObjectError(where(FILE), `ELF machine ${machine} is not eBPF (EM_BPF = 247)`);
  const shoff = Number(view.getBigUint64(40, true));
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  const shstrndx = view.getUint16(62, true);
  if (shentsize !== 64) throw new ObjectError(where(FILE), `section header size ${shentsize}, expected 64`);
  if (shoff + shnum * 64 > bytes.length) {
    throw new ObjectError(where(FILE), `section headers extend past the end of the file (truncated?)`);
  }
  if (shstrndx >= shnum) throw new ObjectError(where(FILE), `section name table index ${shstrndx} out of range`);

  const raw = Array.from({ length: shnum }, (_, index) => {
    const at = shoff + index * 64;
    return {
      index,
      nameOff: view.getUint32(at, true),
      type: view.getUint32(at + 4, true),
      flags: Number(view.getBigUint64(at + 8, true)),
      offset: Number(view.getBigUint64(at + 24, true)),
      size: Number(view.getBigUint64(at + 32, true)),
      link: view.getUint32(at + 40, true),
      info: view.getUint32(at + 44, true),
    };
  });
  for (const s of raw) {
    if (s.type === SHT.NOBITS && s.size > MAX_NOBITS) {
      throw new ObjectError(where(`section #${s.index}`), `zero-filled section of ${s.size} bytes is larger than any BPF map value`);
    }
    if (s.type !== SHT.NOBITS && s.type !== SHT.NULL && s.offset + s.size > bytes.length) {
      throw new ObjectError(where(`section #${s.index}`), `contents extend past the end of the file (truncated?)`);
    }
  }
  const names = elfyNames(bytes, shnum, label);
  const shstr = raw[shstrndx]!; // checked against shnum above
  const sections: Section[] = raw.map((s) => {
    const name = names[s.index] ?? readString(bytes, shstr.offset, shstr.size, s.nameOff, where('section names'));
    const data =
      s.type === SHT.NOBITS || s.type === SHT.NULL
        ? new Uint8Array(s.type === SHT.NOBITS ? s.size : 0)
        : bytes.subarray(s.offset, s.offset + s.size);
    return { index: s.index, name, type: s.type, flags: s.flags, offset: s.offset, size: s.size, link: s.link, info: s.info, data };
  });

  const symtab = sections.find((s) => s.type === SHT.SYMTAB);
  const symbols = symtab ? parseSymbols(symtab, sections, label) : [];
  const relocations = new Map<number, Relocation[]>();
  for (const s of sections) {
    if (s.type === SHT.RELA) throw new ObjectError(where(s.name), 'RELA relocations are not used by eBPF objects');
    if (s.type !== SHT.REL) continue;
    if (s.info >= sections.length) throw new ObjectError(where(s.name), `relocates section #${s.info}, which does not exist`);
    if (s.size % 16 !== 0) throw new ObjectError(where(s.name), `size ${s.size} is not a multiple of 16`);
    const rv = new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
    const list: Relocation[] = [];
    for (let at = 0; at < s.size; at += 16) {
      const info = rv.getBigUint64(at + 8, true);
      const symbol = Number(info >> 32n);
      if (symbol >= symbols.length)
        throw new ObjectError(where(s.name), `relocation at ${at / 16} names symbol #${symbol}, which does not exist`);
      list.push({ offset: Number(rv.getBigUint64(at, true)), type: Number(info & 0xffffffffn), symbol });
    }
    relocations.set(s.info, list);
  }
  return { sections, symbols, relocations, byName: (name) => sections.find((s) => s.name === name) };
}

/** Section names through elfy (the user's chosen ELF reader); undefined entries fall back to our decoding. */
function elfyNames(bytes: Uint8Array, shnum: number, label: string): (string | undefined)[] {
  try {
    const parsed = elfy.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as {
      body?: { sections?: { name?: unknown }[] };
    };
    const list = parsed.body?.sections ?? [];
    return Array.from({ length: shnum }, (_, i) => (typeof list[i]?.name === 'string' ? (list[i].name as string) : undefined));
  } catch (e) {
    throw new ObjectError(`${label}: section headers`, `malformed (${(e as Error).message})`);
  }
}

function readString(bytes: Uint8Array, tableOff: number, tableSize: number, off: number, where: string): string {
  if (off >= tableSize) throw new ObjectError(where, `string offset ${off} outside the string table`);
  let end = tableOff + off;
  const limit = tableOff + tableSize;
  while (end < limit && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(tableOff + off, end));
}

function parseSymbols(symtab: Section, sections: Section[], label: string): ElfSymbol[] {
  const where = `${label}: ${symtab.name}`;
  if (symtab.size % 24 !== 0) throw new ObjectError(where, `size ${symtab.size} is not a multiple of 24`);
  const strtab = sections[symtab.link];
  if (!strtab || strtab.type !== SHT.STRTAB) throw new ObjectError(where, 'has no string table');
  const view = new DataView(symtab.data.buffer, symtab.data.byteOffset, symtab.data.byteLength);
  const whole = strtab.data;
  const out: ElfSymbol[] = [];
  for (let at = 0, index = 0; at < symtab.size; at += 24, index++) {
    const info = view.getUint8(at + 4);
    const nameOff = view.getUint32(at, true);
    out.push({
      index,
      name: readString(whole, 0, whole.length, nameOff, `${label}: ${strtab.name}`),
      type: info & 0xf,
      bind: info >> 4,
      shndx: view.getUint16(at + 6, true),
      value: Number(view.getBigUint64(at + 8, true)),
      size: Number(view.getBigUint64(at + 16, true)),
    });
  }
  return out;
}
