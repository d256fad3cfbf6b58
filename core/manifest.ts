// The manifest that travels in a compiled module's custom section: what the runtime
// needs to set up memory and maps and what the interpreter needs to run the same code.
// Its types, how the compiler builds it, and how the runtime reads it back.

import type { MapPlacement, MemoryLayout } from './abi.js';
import { MAP_TYPE_NAME, type MapShape } from './map-types.js';
import type { BpfObject, MapSpec, Program, TypeLayout } from './model.js';
import { callableTable } from './callables.js';
import { UserError } from './errors.js';
import { decode, encode } from './isa.js';

export const MANIFEST_SECTION = 'bpf2wasm.manifest';
/**
 * Bumped when a module and a runtime of different versions would disagree. 6: the key hash
 * (core/key-hash.ts) went to four lanes, so a module's own lookups and the runtime's maps must
 * place a key in the same bucket; the batch driver resets only the fields helpers can change,
 * with per-batch descriptor fields set once; and hash maps keep per-CPU spare entries
 * (map-layout.ts HASH_DESC.SPARES) that compiled updates swap in. 7: the key hash went to
 * 64-bit words in two lanes, so buckets moved again.
 */
export const MANIFEST_VERSION = 7;

export interface ManifestMap extends MapShape {
  name: string;
  typeName: string;
  section: string;
  key?: TypeLayout;
  value?: TypeLayout;
  inner?: Omit<ManifestMap, 'placement' | 'inner' | 'initialData' | 'initialSlots'>;
  initialSlots?: { index: number; target: string }[];
  /** Base64 of the initial value of a global-data map. */
  initialData?: string;
  placement: MapPlacement;
}

export interface ManifestProgram {
  name: string;
  section: string;
  /** Export name of the entry function. */
  export: string;
  insnCount: number;
  helpers: number[];
  /** Index of this program in the module's function table (tail calls). */
  tableIndex: number;
  /**
   * The verified, relocated BPF code (base64 of the 8-byte slots) and its functions, so
   * the reference interpreter can run a module without the original object.
   */
  code: string;
  funcs: { name: string; start: number }[];
  /**
   * Slots of the jumps whose taken back-edge decrements the run-time loop budget, ascending
   * (compiler/loop-budget.ts decides; docs/design.md "The loop budget"). The compiled code
   * checks the budget on exactly these and the interpreter counts exactly these, so both
   * engines fault alike. Empty when the verifier proved every loop bounded.
   */
  budgetedBackEdges: number[];
}

export interface Manifest {
  version: number;
  source: string;
  license: string;
  layout: MemoryLayout;
  maps: ManifestMap[];
  programs: ManifestProgram[];
  /** Union of helper ids used by all programs. */
  helpers: number[];
}

function describeMap(spec: MapSpec): Omit<ManifestMap, 'placement' | 'inner' | 'initialData' | 'initialSlots'> {
  return {
    name: spec.name,
    type: spec.type,
    typeName: MAP_TYPE_NAME[spec.type] ?? `type_${spec.type}`,
    keySize: spec.keySize,
    valueSize: spec.valueSize,
    maxEntries: spec.maxEntries,
    flags: spec.flags,
    section: spec.section,
    ...(spec.key ? { key: spec.key } : {}),
    ...(spec.value ? { value: spec.value } : {}),
  };
}

export function buildManifest(
  obj: BpfObject,
  programs: readonly Program[],
  helpersByProgram: ReadonlyMap<Program, number[]>,
  budgetedByProgram: ReadonlyMap<Program, readonly number[]>,
  layout: MemoryLayout,
  placements: readonly MapPlacement[],
): Manifest {
  const table = callableTable(programs);
  const maps = obj.maps.map((spec, index): ManifestMap => ({
    ...describeMap(spec),
    ...(spec.inner ? { inner: describeMap(spec.inner) } : {}),
    ...(spec.initialSlots?.length ? { initialSlots: spec.initialSlots } : {}),
    ...(spec.initialData ? { initialData: Buffer.from(spec.initialData).toString('base64') } : {}),
    placement: placements[index]!, // planMemory places obj.maps one to one
  }));
  const progs = programs.map((p): ManifestProgram => ({
    name: p.name,
    section: p.section,
    export: p.name,
    insnCount: p.insns.length,
    helpers: helpersByProgram.get(p) ?? [],
    tableIndex: table.findIndex((c) => c.program === p),
    code: Buffer.from(encode(p.insns)).toString('base64'),
    funcs: p.funcs.map((f) => ({ name: f.name, start: f.start })),
    budgetedBackEdges: [...(budgetedByProgram.get(p) ?? [])],
  }));
  const helpers = [...new Set(progs.flatMap((p) => p.helpers))].sort((a, b) => a - b);
  return { version: MANIFEST_VERSION, source: obj.source, license: obj.license, layout, maps, programs: progs, helpers };
}

export function encodeManifest(manifest: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(manifest));
}

/** Read the manifest of a compiled module; a module without one was not made by bpf2wasm. */
export function readManifest(module: WebAssembly.Module, label: string): Manifest {
  const sections = WebAssembly.Module.customSections(module, MANIFEST_SECTION);
  if (sections.length !== 1) throw new UserError(`${label}: not a bpf2wasm module (no ${MANIFEST_SECTION} section)`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(sections[0])) as Manifest;
  } catch {
    throw new UserError(`${label}: the ${MANIFEST_SECTION} section is not valid JSON`);
  }
  if (manifest.version !== MANIFEST_VERSION) {
    throw new UserError(`${label}: manifest version ${manifest.version}, this runtime reads ${MANIFEST_VERSION}`);
  }
  return manifest;
}

/** The budgeted back-edges of each program of a manifest, by program name, for the interpreter. */
export function manifestBudgetedBackEdges(manifest: Manifest): Map<string, ReadonlySet<number>> {
  return new Map(manifest.programs.map((p) => [p.name, new Set(p.budgetedBackEdges)]));
}

/** The BPF programs carried by a manifest, for the interpreter. */
export function manifestPrograms(manifest: Manifest): Program[] {
  return manifest.programs.map((p) => ({
    name: p.name,
    section: p.section,
    insns: decode(new Uint8Array(Buffer.from(p.code, 'base64'))),
    funcs: p.funcs,
  }));
}
