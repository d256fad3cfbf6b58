// BTF (.BTF section): the type graph clang emits, decoded enough to read BTF-defined map
// declarations and to describe map keys and values (TypeLayout) in the manifest.

import { ObjectError } from '../core/errors.js';
import type { FieldLayout, TypeLayout } from '../core/model.js';

export const BTF_MAGIC = 0xeb9f;
export const KIND = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export interface BtfMember {
  name: string;
  type: number;
  /** Offset in bits. */
  bitOffset: number;
}

export interface BtfType {
  id: number;
  kind: number;
  name: string;
  /** size for INT/STRUCT/UNION/ENUM/DATASEC/FLOAT; referenced type id for PTR/TYPEDEF/qualifiers/VAR/FUNC. */
  sizeOrType: number;
  members: BtfMember[];
  /** ARRAY only. */
  array?: { type: number; nelems: number };
  /** DATASEC only. */
  vars?: { type: number; offset: number; size: number }[];
  /** FUNC_PROTO only: the parameters in order (sizeOrType is the return type). */
  params?: { name: string; type: number }[];
  /** FUNC only: 0 static, 1 global, 2 extern. */
  linkage?: number;
}

export class Btf {
  constructor(
    readonly types: BtfType[],
    /** Reads the BTF string section (line info and names in .BTF.ext point into it). */
    readonly str: (off: number) => string = () => '',
  ) {}

  get(id: number): BtfType {
    const t = this.types[id];
    if (!t) throw new ObjectError('.BTF', `type id ${id} does not exist`);
    return t;
  }

  /** Follow typedefs and qualifiers to the underlying type. */
  resolve(id: number): BtfType {
    let t = this.get(id);
    for (let hops = 0; hops < 64; hops++) {
      if (![KIND.TYPEDEF, KIND.VOLATILE, KIND.CONST, KIND.RESTRICT, KIND.TYPE_TAG].includes(t.kind as 8)) return t;
      t = this.get(t.sizeOrType);
    }
    throw new ObjectError('.BTF', `type id ${id}: qualifier chain too long (a cycle?)`);
  }

  sizeOf(id: number, depth = 0): number {
    if (depth > 64) throw new ObjectError('.BTF', `type id ${id}: nesting too deep (a cycle?)`);
    const t = this.resolve(id);
    switch (t.kind) {
      case KIND.INT:
      case KIND.STRUCT:
      case KIND.UNION:
      case KIND.ENUM:
      case KIND.ENUM64:
      case KIND.FLOAT:
      case KIND.DATASEC:
        return t.sizeOrType;
      case KIND.PTR:
        return 8;
      case KIND.ARRAY:
        return t.array!.nelems * this.sizeOf(t.array!.type, depth + 1);
    }
    throw new ObjectError('.BTF', `type id ${id} (${t.name || 'anonymous'}) has no size`);
  }

  /** C-like spelling of a type, for manifests and listings. */
  typeName(id: number, depth = 0): string {
    if (id === 0) return 'void';
    if (depth > 16) return '...';
    const t = this.get(id);
    switch (t.kind) {
      case KIND.STRUCT:
        return `struct ${t.name || '<anon>'}`;
      case KIND.UNION:
        return `union ${t.name || '<anon>'}`;
      case KIND.ENUM:
      case KIND.ENUM64:
        return `enum ${t.name || '<anon>'}`;
      case KIND.PTR:
        return `${this.typeName(t.sizeOrType, depth + 1)} *`;
      case KIND.ARRAY:
        return `${this.typeName(t.array!.type, depth + 1)}[${t.array!.nelems}]`;
      case KIND.CONST:
        return `const ${this.typeName(t.sizeOrType, depth + 1)}`;
      case KIND.VOLATILE:
        return `volatile ${this.typeName(t.sizeOrType, depth + 1)}`;
      default:
        return t.name || this.typeName(t.sizeOrType, depth + 1);
    }
  }

  /** Flattened description of a key or value type (top-level members). */
  layout(id: number): TypeLayout {
    const t = this.resolve(id);
    const fields: FieldLayout[] =
      t.kind === KIND.STRUCT || t.kind === KIND.UNION
        ? t.members.map((m) => ({ name: m.name, offset: m.bitOffset / 8, size: this.sizeOf(m.type), type: this.typeName(m.type) }))
        : [];
    return { name: this.typeName(id), size: this.sizeOf(id), fields };
  }

  findByName(kind: number, name: string): BtfType | undefined {
    return this.types.find((t) => t && t.kind === kind && t.name === name);
  }
}

export function parseBtf(data: Uint8Array, label: string): Btf {
  const where = `${label}: .BTF`;
  if (data.length < 24) throw new ObjectError(where, 'section too short for a BTF header');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint16(0, true) !== BTF_MAGIC) throw new ObjectError(where, 'bad magic (not little-endian BTF)');
  if (view.getUint8(2) !== 1) throw new ObjectError(where, `unsupported BTF version ${view.getUint8(2)}`);
  const hdrLen = view.getUint32(4, true);
  const typeOff = view.getUint32(8, true);
  const typeLen = view.getUint32(12, true);
  const strOff = view.getUint32(16, true);
  const strLen = view.getUint32(20, true);
  const typesStart = hdrLen + typeOff;
  const strStart = hdrLen + strOff;
  if (hdrLen < 24 || typesStart + typeLen > data.length || strStart + strLen > data.length) {
    throw new ObjectError(where, 'type or string section extends past the end of .BTF (corrupt header)');
  }
  const str = (off: number): string => {
    if (off >= strLen) throw new ObjectError(where, `string offset ${off} outside the string section`);
    let end = strStart + off;
    while (end < strStart + strLen && data[end] !== 0) end++;
    return new TextDecoder().decode(data.subarray(strStart + off, end));
  };
  const types: BtfType[] = [{ id: 0, kind: KIND.UNKN, name: 'void', sizeOrType: 0, members: [] }];
  let at = typesStart;
  const end = typesStart + typeLen;
  const need = (n: number): void => {
    if (at + n > end) throw new ObjectError(where, `type #${types.length} is truncated`);
  };
  while (at < end) {
    need(12);
    const info = view.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kindFlag = info >>> 31;
    const t: BtfType = {
      id: types.length,
      kind,
      name: str(view.getUint32(at, true)),
      sizeOrType: view.getUint32(at + 8, true),
      members: [],
    };
    at += 12;
    switch (kind) {
      case KIND.INT:
      case KIND.VAR:
      case KIND.DECL_TAG:
        need(4);
        at += 4;
        break;
      case KIND.ARRAY:
        need(12);
        t.array = { type: view.getUint32(at, true), nelems: view.getUint32(at + 8, true) };
        at += 12;
        break;
      case KIND.STRUCT:
      case KIND.UNION:
        need(12 * vlen);
        for (let i = 0; i < vlen; i++, at += 12) {
          const off = view.getUint32(at + 8, true);
          t.members.push({
            name: str(view.getUint32(at, true)),
            type: view.getUint32(at + 4, true),
            bitOffset: kindFlag ? off & 0xffffff : off,
          });
        }
        break;
      case KIND.ENUM:
        need(8 * vlen);
        at += 8 * vlen;
        break;
      case KIND.ENUM64:
        need(12 * vlen);
        at += 12 * vlen;
        break;
      case KIND.FUNC_PROTO:
        need(8 * vlen);
        t.params = [];
        for (let i = 0; i < vlen; i++, at += 8) t.params.push({ name: str(view.getUint32(at, true)), type: view.getUint32(at + 4, true) });
        break;
      case KIND.DATASEC:
        need(12 * vlen);
        t.vars = [];
        for (let i = 0; i < vlen; i++, at += 12) {
          t.vars.push({ type: view.getUint32(at, true), offset: view.getUint32(at + 4, true), size: view.getUint32(at + 8, true) });
        }
        break;
      case KIND.FUNC:
        t.linkage = vlen;
        break;
      case KIND.PTR:
      case KIND.FWD:
      case KIND.TYPEDEF:
      case KIND.VOLATILE:
      case KIND.CONST:
      case KIND.RESTRICT:
      case KIND.FLOAT:
      case KIND.TYPE_TAG:
        break;
      default:
        throw new ObjectError(where, `type #${types.length} has unknown kind ${kind}`);
    }
    types.push(t);
  }
  return new Btf(types, str);
}

/** What .BTF.ext says: source lines by (section, byte offset) and the CO-RE record count. */
export interface BtfExt {
  lines: Map<string, Map<number, string>>;
  funcs: Map<string, Map<number, string>>;
  coreRelocations: number;
}

export function parseBtfExt(data: Uint8Array, btf: Btf, label: string): BtfExt {
  const where = `${label}: .BTF.ext`;
  if (data.length < 24) throw new ObjectError(where, 'section too short for its header');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint16(0, true) !== BTF_MAGIC) throw new ObjectError(where, 'bad magic');
  const hdrLen = view.getUint32(4, true);
  // Each sub-section: u32 record size, then per ELF section {name_off, count, records}.
  const records = (off: number, len: number, minSize: number, what: string, each: (sec: string, at: number) => void): void => {
    if (len === 0) return;
    const start = hdrLen + off;
    if (start + len > data.length || len < 4) throw new ObjectError(where, `${what} extends past the end of the section`);
    const size = view.getUint32(start, true);
    if (size < minSize) throw new ObjectError(where, `${what} record size ${size} is too small`);
    let at = start + 4;
    while (at + 8 <= start + len) {
      const sec = btf.str(view.getUint32(at, true));
      const n = view.getUint32(at + 4, true);
      at += 8;
      if (at + n * size > start + len) throw new ObjectError(where, `${what} records for ${sec} are truncated`);
      for (let i = 0; i < n; i++, at += size) each(sec, at);
    }
  };
  const ext: BtfExt = { lines: new Map(), funcs: new Map(), coreRelocations: 0 };
  const put = (m: Map<string, Map<number, string>>, sec: string, off: number, text: string): void => {
    if (!m.has(sec)) m.set(sec, new Map());
    m.get(sec)!.set(off, text);
  };
  records(view.getUint32(8, true), view.getUint32(12, true), 8, 'func_info', (sec, at) => {
    put(ext.funcs, sec, view.getUint32(at, true), btf.typeName(view.getUint32(at + 4, true)));
  });
  records(view.getUint32(16, true), view.getUint32(20, true), 16, 'line_info', (sec, at) => {
    const file = btf
      .str(view.getUint32(at + 4, true))
      .split('/')
      .pop();
    const text = btf.str(view.getUint32(at + 8, true)).trim();
    const lineCol = view.getUint32(at + 12, true);
    put(ext.lines, sec, view.getUint32(at, true), `${file}:${lineCol >>> 10}: ${text}`);
  });
  if (hdrLen >= 32 && data.length >= 32) {
    records(view.getUint32(24, true), view.getUint32(28, true), 16, 'CO-RE relocations', () => ext.coreRelocations++);
  }
  return ext;
}
