// The smallest eBPF object that compiler/object.ts accepts: a relocatable ELF64
// (little-endian, EM_BPF) with one executable section holding `code`, a function symbol
// for each function in it (the first global, the others local, as clang writes static
// subprograms), and the string tables. Lets tests send bare instruction
// images through the ELF reader and the object loader (and so isa.ts `decode`), the path
// clang's objects take, instead of handing assembler output straight to the compiler.

const EM_BPF = 247;
const SHT = { PROGBITS: 1, SYMTAB: 2, STRTAB: 3 } as const;
const SHF_ALLOC_EXECINSTR = 0x2 | 0x4;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STT_FUNC = 2;

/** Builds a string table; `offset(name)` is where `name` starts. */
function strtab(names: string[]): { bytes: Uint8Array; offset: (name: string) => number } {
  const offsets = new Map<string, number>();
  const parts: number[] = [0];
  for (const n of names) {
    offsets.set(n, parts.length);
    parts.push(...new TextEncoder().encode(n), 0);
  }
  return { bytes: Uint8Array.from(parts), offset: (n) => offsets.get(n)! };
}

/** `functions`: name and first slot of each function, the entry (at slot 0) first. */
export function minimalBpfElf(
  code: Uint8Array,
  functions: { name: string; start: number }[] = [{ name: 'entry', start: 0 }],
  section = 'xdp',
): Uint8Array {
  const shstr = strtab([section, '.symtab', '.strtab', '.shstrtab']);
  const str = strtab(functions.map((f) => f.name));
  const starts = functions.map((f) => f.start * 8);
  const sorted = [...starts, code.length].sort((a, b) => a - b);
  const sizeFrom = (start: number): number => sorted.find((s) => s > start)! - start;
  // The null symbol, the local functions, then the entry: locals come before globals.
  const order = [
    ...functions.slice(1).map((f, i) => ({ f, start: starts[i + 1]!, bind: STB_LOCAL })),
    { f: functions[0]!, start: starts[0]!, bind: STB_GLOBAL },
  ];
  const symtab = new Uint8Array(24 * (1 + order.length));
  const sv = new DataView(symtab.buffer);
  order.forEach(({ f, start, bind }, i) => {
    const at = 24 * (i + 1);
    sv.setUint32(at, str.offset(f.name), true);
    sv.setUint8(at + 4, (bind << 4) | STT_FUNC);
    sv.setUint16(at + 6, 1, true); // section #1
    sv.setBigUint64(at + 8, BigInt(start), true);
    sv.setBigUint64(at + 16, BigInt(sizeFrom(start)), true);
  });
  const firstGlobal = order.length; // index of the entry's symbol

  // Layout: header, then each section's bytes 8-aligned, then the section headers.
  const contents = [code, symtab, str.bytes, shstr.bytes];
  const offsets: number[] = [];
  let at = 64;
  for (const c of contents) {
    offsets.push(at);
    at = (at + c.length + 7) & ~7;
  }
  const shoff = at;
  const out = new Uint8Array(shoff + 5 * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // ELF64, little-endian, version 1
  v.setUint16(16, 1, true); // ET_REL
  v.setUint16(18, EM_BPF, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(58, 64, true); // e_shentsize
  v.setUint16(60, 5, true); // e_shnum
  v.setUint16(62, 4, true); // e_shstrndx
  contents.forEach((c, i) => out.set(c, offsets[i]));

  const header = (
    index: number,
    name: number,
    type: number,
    flags: number,
    offset: number,
    size: number,
    link = 0,
    info = 0,
    align = 1,
    entsize = 0,
  ): void => {
    const h = shoff + index * 64;
    v.setUint32(h, name, true);
    v.setUint32(h + 4, type, true);
    v.setBigUint64(h + 8, BigInt(flags), true);
    v.setBigUint64(h + 24, BigInt(offset), true);
    v.setBigUint64(h + 32, BigInt(size), true);
    v.setUint32(h + 40, link, true);
    v.setUint32(h + 44, info, true);
    v.setBigUint64(h + 48, BigInt(align), true);
    v.setBigUint64(h + 56, BigInt(entsize), true);
  };
  const [codeAt, symtabAt, strtabAt, shstrtabAt] = offsets as [number, number, number, number]; // one per part of `contents`
  header(1, shstr.offset(section), SHT.PROGBITS, SHF_ALLOC_EXECINSTR, codeAt, code.length, 0, 0, 8);
  header(2, shstr.offset('.symtab'), SHT.SYMTAB, 0, symtabAt, symtab.length, 3, firstGlobal, 8, 24);
  header(3, shstr.offset('.strtab'), SHT.STRTAB, 0, strtabAt, str.bytes.length);
  header(4, shstr.offset('.shstrtab'), SHT.STRTAB, 0, shstrtabAt, shstr.bytes.length);
  return out;
}
