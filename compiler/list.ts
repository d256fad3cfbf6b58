// `bpf2wasm --list`: the programs and maps of an object as aligned tables.

import { MAP_TYPE_NAME } from '../core/map-types.js';
import type { BpfObject, MapSpec } from '../core/model.js';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const typeName = (m: MapSpec): string => MAP_TYPE_NAME[m.type] ?? `type ${m.type}`;
const flags = (f: number): string => `0x${f.toString(16)}`;

export function describeObject(obj: BpfObject): string {
  const programs = table(
    ['program', 'section', 'instructions', 'functions'],
    obj.programs.map((p) => [p.name, p.section, String(p.insns.length), p.funcs.map((f) => f.name).join(', ')]),
  );
  const maps = table(
    ['map', 'type', 'key', 'value', 'max_entries', 'flags', 'inner'],
    obj.maps.map((m) => [
      m.name,
      typeName(m),
      String(m.keySize),
      String(m.valueSize),
      String(m.maxEntries),
      flags(m.flags),
      m.inner ? `${typeName(m.inner)} ${m.inner.keySize}/${m.inner.valueSize} max ${m.inner.maxEntries} flags ${flags(m.inner.flags)}` : '',
    ]),
  );
  return `${obj.source} (license ${obj.license || 'none'})\n\n${programs}\n\n${maps}`;
}
