// Seeds of the verifier fuzzer: valid XDP objects (the examples, the kernel and wasm test
// fixtures) and, for each program, the slots that may be mutated in place in the ELF file.
// Only slots of the program's entry function qualify: `.text` subprograms the linker
// appends are shared between programs and live elsewhere in the file, so a patch there
// would not map back to one slot of one program.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf } from '../../../compiler/elf.js';
import { functionsOf } from '../../../compiler/link.js';
import { loadObject } from '../../../compiler/object.js';
import { SLOT } from '../../../core/isa.js';
import type { BpfObject, Program } from '../../../core/model.js';
import { packageRoot } from '../../../core/package-root.js';
import { compileBpf } from '../clang.js';
import { exampleNames, examplePath } from '../examples.js';
import { UNSAFE_ON_PURPOSE } from '../unsafe-fixtures.js';

/** One program of a seed object, with where its entry function's slots are in the file. */
export interface SeedProgram {
  /** The seed object this program belongs to. */
  seed: Seed;
  program: Program;
  /** Slots 0..entrySlots-1 are the entry function's, in the file from `fileOffset` on. */
  entrySlots: number;
  fileOffset: number;
}

export interface Seed {
  /** `example:xdp_lb`, `kernel:parse_count`, ... */
  name: string;
  path: string;
  bytes: Uint8Array;
  object: BpfObject;
  programs: SeedProgram[];
}

/** Fixtures that are not valid for the kernel on purpose. */
const NOT_SEEDS = UNSAFE_ON_PURPOSE;
/** Examples the kernel's loader cannot open: libbpf 1.0 dropped legacy `maps` sections. */
const NOT_LOADABLE = new Set(['legacy_maps']);

/** Every seed's object file: built examples, and the C fixtures compiled with clang. */
export function seedFiles(): { name: string; path: string }[] {
  const files = exampleNames()
    .filter((n) => !NOT_LOADABLE.has(n))
    .map((n) => ({ name: `example:${n}`, path: examplePath(n) }));
  for (const dir of ['kernel', 'wasm']) {
    const abs = join(packageRoot, 'test/fixtures', dir);
    for (const f of readdirSync(abs)
      .filter((x) => x.endsWith('.c') && !NOT_SEEDS.has(x))
      .sort()) {
      files.push({ name: `${dir}:${f.slice(0, -2)}`, path: compileBpf(join(abs, f)) });
    }
  }
  return files;
}

export function loadSeed(name: string, path: string): Seed {
  const bytes = new Uint8Array(readFileSync(path));
  const object = loadObject(bytes, path);
  const elf = parseElf(bytes, path);
  const seed: Seed = { name, path, bytes, object, programs: [] };
  for (const program of object.programs) {
    const section = elf.byName(program.section);
    if (!section) throw new Error(`${path}: program ${program.name}: no section ${program.section}`);
    // As compiler/object.ts names programs: the function symbol, or the section when it has none.
    const fn = functionsOf(elf, section).find((f) => f.name === program.name) ?? { start: 0, end: section.size };
    seed.programs.push({ seed, program, entrySlots: (fn.end - fn.start) / SLOT, fileOffset: section.offset + fn.start });
  }
  return seed;
}
