// Reads a golden program (test/golden/programs/*.s): assembler text (compiler/asm.ts
// syntax) with two additions the assembler has no syntax for, both on lines it ignores:
//
//   #! map NAME TYPE key=K value=V entries=N     a map of the object (TYPE as MAP_TYPE_NAME: array, hash, ...)
//   lddw %r1, map:NAME                           load that map's handle (ld_imm64 MAP_IDX)
//   #! wat-has TEXT / #! wat-lacks TEXT           what the module text must (not) contain
//   #! verifier kernel                            verify with the memory-safety model (r1 is
//                                                 then struct xdp_md), not structure only
//
// The wat-has/wat-lacks lines are written by hand from what the program is meant to show,
// so a golden file rewritten with UPDATE_GOLDEN=1 is still held to the shape it is for.

import { assemble } from '../../compiler/asm.js';
import { programFromInsns } from '../../compiler/raw-program.js';
import { isLdImm64, PSEUDO } from '../../core/isa.js';
import { MAP_TYPE_NAME } from '../../core/map-types.js';
import type { BpfObject, MapSpec } from '../../core/model.js';

const MAP_DIRECTIVE = /^#!\s*map\s+(\w+)\s+(\w+)\s+key=(\d+)\s+value=(\d+)\s+entries=(\d+)\s*$/;
const MAP_OPERAND = /^(\s*(?:\w+:\s*)?lddw\s+%r\d+\s*,\s*)map:(\w+)\s*$/;
const TYPE_BY_NAME = new Map(Object.entries(MAP_TYPE_NAME).map(([id, name]) => [name, Number(id)]));

export interface GoldenProgram {
  object: BpfObject;
  watHas: string[];
  watLacks: string[];
  /** The program is verified with the kernel's memory-safety model (`#! verifier kernel`). */
  memorySafety: boolean;
}

const WAT_DIRECTIVE = /^#!\s*wat-(has|lacks)\s+(.+)$/;

export function readGoldenProgram(name: string, text: string): GoldenProgram {
  const maps: MapSpec[] = [];
  const watHas: string[] = [];
  const watLacks: string[] = [];
  let memorySafety = false;
  /** For each lddw of the program in order: whether it loads a map handle. */
  const lddwIsMap: boolean[] = [];
  const lines = text.split('\n').map((line, i) => {
    const where = `${name}.s line ${i + 1}`;
    const directive = MAP_DIRECTIVE.exec(line.trim());
    if (directive) {
      const [, mapName, typeName, key, value, entries] = directive;
      const type = TYPE_BY_NAME.get(typeName!);
      if (type === undefined) throw new Error(`${where}: unknown map type ${typeName}`);
      maps.push({
        name: mapName!,
        type,
        keySize: Number(key),
        valueSize: Number(value),
        maxEntries: Number(entries),
        flags: 0,
        section: '.maps',
      });
      return '';
    }
    const wat = WAT_DIRECTIVE.exec(line.trim());
    if (wat) {
      (wat[1] === 'has' ? watHas : watLacks).push(wat[2]!.trim());
      return '';
    }
    if (/^#!\s*verifier\s+kernel\s*$/.test(line.trim())) {
      memorySafety = true;
      return '';
    }
    if (line.trim().startsWith('#!')) throw new Error(`${where}: unknown directive ${line.trim()}`);
    const code = line.replace(/[#;].*$/, '');
    if (!/\blddw\b/.test(code)) return line;
    const ref = MAP_OPERAND.exec(code);
    lddwIsMap.push(ref !== null);
    if (!ref) return line;
    const index = maps.findIndex((m) => m.name === ref[2]);
    if (index < 0) throw new Error(`${where}: map ${ref[2]} is not declared (#! map ...) above`);
    return `${ref[1]}${index}`;
  });
  const insns = assemble(lines.join('\n'));
  const lddws = insns.filter((i) => isLdImm64(i.opcode));
  lddws.forEach((insn, k) => {
    if (lddwIsMap[k]) insn.src = PSEUDO.MAP_IDX;
  });
  return {
    object: { source: name, license: 'GPL', maps, programs: [programFromInsns(name, insns, 'xdp')] },
    watHas,
    watLacks,
    memorySafety,
  };
}
