// From ELF bytes to the BpfObject model: maps (BTF-defined `.maps` including map-in-map
// templates and initial slots, legacy `maps`, global data sections as single-entry
// arrays), programs (one per global function in an executable section), and relocations
// applied the way libbpf does — `.text` subprograms appended to each program that calls
// them, map references rewritten to map indices (PSEUDO.MAP_IDX / MAP_IDX_VALUE).

import { type Btf, KIND, parseBtf, parseBtfExt } from './btf.js';
import { globalSignature } from './global-funcs.js';
import { type ElfFile, SHF_EXECINSTR, SHN_UNDEF, SHT, STB, STT, parseElf } from './elf.js';
import { ObjectError, UserError } from '../core/errors.js';
import { SLOT } from '../core/isa.js';
import { functionsOf, link, symbolsIn, type SourceLines } from './link.js';
import { MAP_FLAG, MAP_TYPE, isOfMaps, mapTraits } from '../core/map-types.js';
import { specProblem } from '../core/map-spec.js';
import type { BpfObject, MapSpec, Program } from '../core/model.js';

const GLOBAL_DATA = /^\.(data|rodata|bss)(\..*)?$/;

export function loadObject(bytes: Uint8Array, source: string): BpfObject {
  try {
    return load(bytes, source);
  } catch (e) {
    if (e instanceof UserError) throw e;
    // DataView reads past the end of a malformed section: report it as malformed input.
    if (e instanceof RangeError) throw new ObjectError(source, `malformed object (${e.message})`);
    throw e;
  }
}

function load(bytes: Uint8Array, source: string): BpfObject {
  const elf = parseElf(bytes, source);
  const btfSection = elf.byName('.BTF');
  const btf = btfSection ? parseBtf(btfSection.data, source) : undefined;
  const extSection = elf.byName('.BTF.ext');
  // CO-RE records are validated and counted; against the object's own BTF they are the identity (docs/design.md).
  const ext = extSection && btf ? parseBtfExt(extSection.data, btf, source) : undefined;
  const maps = [...btfMaps(elf, btf, source), ...legacyMaps(elf, source), ...globalDataMaps(elf, source)];
  for (const map of maps) checkMapDefinition(map, source);
  const license = elf.byName('license');
  return {
    source,
    license: license ? new TextDecoder().decode(license.data).replace(/\0.*$/s, '') : '',
    maps,
    programs: programs(elf, maps, source, kfuncNames(btf), ext?.lines).map((p) => withGlobalSignatures(p, btf)),
  };
}

// ---- maps ------------------------------------------------------------------------------

/**
 * Refuses a definition the kernel would refuse to create (libbpf fails the load there), so a
 * bad object fails at compile time rather than when the runtime makes its maps. Types the
 * runtime does not support are left to the runtime, which names them when it loads.
 */
function checkMapDefinition(map: MapSpec, source: string): void {
  for (const spec of map.inner ? [map, map.inner] : [map]) {
    if (!mapTraits(spec.type)) continue;
    const problem = specProblem(spec);
    if (problem) throw new ObjectError(`${source}: ${map.section}: ${spec.name}`, `invalid map definition: ${problem}`);
  }
}

function btfMaps(elf: ElfFile, btf: Btf | undefined, source: string): MapSpec[] {
  const section = elf.byName('.maps');
  if (!section) return [];
  const where = `${source}: .maps`;
  if (!btf) throw new ObjectError(where, 'BTF-defined maps need a .BTF section');
  const datasec = btf.findByName(KIND.DATASEC, '.maps');
  if (!datasec?.vars) throw new ObjectError(where, 'no DATASEC .maps in BTF');
  const varType = new Map<string, number>();
  for (const v of datasec.vars) {
    const t = btf.get(v.type);
    if (t.kind === KIND.VAR) varType.set(t.name, t.sizeOrType);
  }
  const symbols = symbolsIn(elf, section.index).filter((s) => s.type === STT.OBJECT || s.type === STT.NOTYPE);
  const maps = symbols.map((sym) => {
    const type = varType.get(sym.name);
    if (type === undefined) throw new ObjectError(`${where}: ${sym.name}`, 'no BTF variable describes this map');
    return mapFromBtf(btf, type, sym.name, `${where}: ${sym.name}`);
  });
  // Initial slots of map-in-map and prog_array `values`: relocations into .maps.
  for (const rel of elf.relocations.get(section.index) ?? []) {
    const owner = symbols.findIndex((s) => rel.offset >= s.value && rel.offset < s.value + Math.max(s.size, 1));
    if (owner < 0) throw new ObjectError(where, `relocation at offset ${rel.offset} is outside every map`);
    const target = elf.symbols[rel.symbol]!; // parseElf rejects relocations to missing symbols
    // maps is symbols.map(...), and owner is a found index into symbols.
    const ownerSym = symbols[owner]!;
    const spec = maps[owner]!;
    const valuesOffset = valuesMemberOffset(btf, varType.get(ownerSym.name)!);
    if (valuesOffset === undefined) throw new ObjectError(`${where}: ${spec.name}`, 'initial values given but no `values` member');
    const index = (rel.offset - ownerSym.value - valuesOffset) / 8;
    if (!Number.isInteger(index) || index < 0 || index >= spec.maxEntries) {
      throw new ObjectError(`${where}: ${spec.name}`, `initial value slot ${index} out of range`);
    }
    if (target.shndx === SHN_UNDEF)
      throw new ObjectError(`${where}: ${spec.name}`, `initial value refers to undefined symbol '${target.name}'`);
    (spec.initialSlots ??= []).push({ index, target: target.name });
  }
  return maps;
}

function mapFromBtf(btf: Btf, typeId: number, name: string, where: string): MapSpec {
  const def = btf.resolve(typeId);
  if (def.kind !== KIND.STRUCT) throw new ObjectError(where, 'map definition is not a struct');
  const spec: MapSpec = { name, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, section: '.maps' };
  for (const m of def.members) {
    switch (m.name) {
      case 'type':
        spec.type = uintMember(btf, m.type, where, m.name);
        break;
      case 'max_entries':
        spec.maxEntries = uintMember(btf, m.type, where, m.name);
        break;
      case 'map_flags':
        spec.flags = uintMember(btf, m.type, where, m.name);
        break;
      case 'key_size':
        spec.keySize = uintMember(btf, m.type, where, m.name);
        break;
      case 'value_size':
        spec.valueSize = uintMember(btf, m.type, where, m.name);
        break;
      case 'pinning':
        spec.pinning = uintMember(btf, m.type, where, m.name);
        break;
      case 'key': {
        const target = pointee(btf, m.type, where, m.name);
        spec.keySize = btf.sizeOf(target);
        spec.key = btf.layout(target);
        break;
      }
      case 'value': {
        const target = pointee(btf, m.type, where, m.name);
        spec.valueSize = btf.sizeOf(target);
        spec.value = btf.layout(target);
        break;
      }
      case 'values': {
        // __array(values, struct inner): an array of pointers to the inner map's definition.
        const arr = btf.resolve(m.type);
        if (arr.kind !== KIND.ARRAY) throw new ObjectError(where, '`values` is not an array');
        const ptr = btf.resolve(arr.array!.type);
        if (ptr.kind !== KIND.PTR) throw new ObjectError(where, '`values` is not an array of pointers');
        if (spec.type !== MAP_TYPE.PROG_ARRAY) spec.inner = mapFromBtf(btf, ptr.sizeOrType, `${name}.inner`, `${where} (inner map)`);
        spec.valueSize = 4;
        break;
      }
      default:
        break; // other members (numa_node, map_extra) do not change userspace semantics here
    }
  }
  if (isOfMaps(spec.type) || spec.type === MAP_TYPE.PROG_ARRAY) {
    spec.valueSize = 4;
    if (spec.type !== MAP_TYPE.PROG_ARRAY && !spec.inner)
      throw new ObjectError(where, 'map-in-map without an inner map template (`__array(values, ...)`)');
  }
  if (spec.type === MAP_TYPE.UNSPEC) throw new ObjectError(where, 'map has no type');
  return spec;
}

/** `__uint(name, N)` is encoded as `int (*name)[N]`. */
function uintMember(btf: Btf, typeId: number, where: string, member: string): number {
  const ptr = btf.resolve(typeId);
  const arr = ptr.kind === KIND.PTR ? btf.resolve(ptr.sizeOrType) : undefined;
  if (!arr || arr.kind !== KIND.ARRAY) throw new ObjectError(where, `member '${member}' is not a __uint() value`);
  return arr.array!.nelems;
}

/** `__type(name, T)` is encoded as `T *name`. */
function pointee(btf: Btf, typeId: number, where: string, member: string): number {
  const ptr = btf.resolve(typeId);
  if (ptr.kind !== KIND.PTR) throw new ObjectError(where, `member '${member}' is not a __type() pointer`);
  return ptr.sizeOrType;
}

function valuesMemberOffset(btf: Btf, typeId: number): number | undefined {
  const m = btf.resolve(typeId).members.find((x) => x.name === 'values');
  return m ? m.bitOffset / 8 : undefined;
}

function legacyMaps(elf: ElfFile, source: string): MapSpec[] {
  const section = elf.byName('maps');
  if (!section) return [];
  const view = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
  return symbolsIn(elf, section.index)
    .filter((s) => s.type === STT.OBJECT || s.type === STT.NOTYPE)
    .map((sym) => {
      const where = `${source}: maps: ${sym.name}`;
      if (sym.value + 20 > section.size) throw new ObjectError(where, 'definition extends past the section (needs 20 bytes)');
      const u32 = (i: number): number => view.getUint32(sym.value + 4 * i, true);
      const spec: MapSpec = {
        name: sym.name,
        type: u32(0),
        keySize: u32(1),
        valueSize: u32(2),
        maxEntries: u32(3),
        flags: u32(4),
        section: 'maps',
      };
      if (spec.type === MAP_TYPE.UNSPEC) throw new ObjectError(where, 'map has no type');
      return spec;
    });
}

/** KMALLOC_MAX_SIZE on x86-64: the largest map value the kernel can allocate. */
const MAX_VALUE_SIZE = 4 << 20;

function globalDataMaps(elf: ElfFile, source: string): MapSpec[] {
  return elf.sections
    .filter((s) => GLOBAL_DATA.test(s.name) && (s.type === SHT.PROGBITS || s.type === SHT.NOBITS) && s.size > 0)
    .map((s) => {
      if (s.size > MAX_VALUE_SIZE)
        throw new ObjectError(`${source}: ${s.name}`, `global data of ${s.size} bytes exceeds the ${MAX_VALUE_SIZE}-byte map value limit`);
      return s;
    })
    .map((s) => ({
      name: s.name,
      type: MAP_TYPE.ARRAY,
      keySize: 4,
      valueSize: s.size,
      maxEntries: 1,
      // As libbpf creates them: mmapable, and read-only for the program when .rodata.
      flags: MAP_FLAG.MMAPABLE | (s.name.startsWith('.rodata') ? MAP_FLAG.RDONLY_PROG : 0),
      section: s.name,
      initialData: s.type === SHT.NOBITS ? new Uint8Array(s.size) : s.data.slice(),
    }));
}

// ---- programs --------------------------------------------------------------------------

/**
 * The kernel functions the object declares (`extern ... __ksym` functions: FUNCs in BTF's
 * `.ksyms` section), which libbpf turns into kfunc calls at load time.
 */
function kfuncNames(btf: Btf | undefined): Set<string> {
  const ksyms = btf?.types.find((t) => t.kind === KIND.DATASEC && t.name === '.ksyms');
  const funcs = (ksyms?.vars ?? []).map((v) => btf!.types[v.type]).filter((t) => t?.kind === KIND.FUNC);
  return new Set(funcs.map((t) => t!.name));
}

/** Global functions the program calls carry their BTF signature (the entry is not one of them). */
function withGlobalSignatures(prog: Program, btf: Btf | undefined): Program {
  const funcs = prog.funcs.map((f, i) => {
    const global = i === 0 ? undefined : globalSignature(btf, f.name);
    return global ? { ...f, global } : f;
  });
  return { ...prog, funcs };
}

function programs(elf: ElfFile, maps: MapSpec[], source: string, kfuncs: ReadonlySet<string>, lines?: SourceLines): Program[] {
  const out: Program[] = [];
  for (const section of elf.sections) {
    if (!(section.flags & SHF_EXECINSTR) || section.name === '.text' || section.size === 0) continue;
    if (section.size % SLOT !== 0) throw new ObjectError(`${source}: ${section.name}`, `size ${section.size} is not a multiple of 8`);
    const funcs = functionsOf(elf, section);
    const entries = funcs.filter((f) => elf.symbols.some((s) => s.name === f.name && s.shndx === section.index && s.bind !== STB.LOCAL));
    const mains = entries.length ? entries : [{ section, name: section.name, start: 0, end: section.size }];
    for (const main of mains) out.push(link(elf, main, maps, source, kfuncs, lines));
  }
  return out;
}
