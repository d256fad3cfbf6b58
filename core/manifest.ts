// Builds the manifest (abi.ts `Manifest`) that travels in the module's custom section,
// and reads it back from a compiled module.

import {
  MANIFEST_SECTION, MANIFEST_VERSION, type Manifest, type ManifestMap, type ManifestProgram,
  type MapPlacement, type MemoryLayout,
} from './abi.js';
import { MAP_TYPE_NAME, type BpfObject, type MapSpec, type Program } from './model.js';
import { callableTable } from './callables.js';
import { UserError } from './errors.js';
import { decode, encode } from './isa.js';

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
  layout: MemoryLayout,
  placements: readonly MapPlacement[],
): Manifest {
  const table = callableTable(programs);
  const maps = obj.maps.map((spec, index): ManifestMap => ({
    ...describeMap(spec),
    ...(spec.inner ? { inner: describeMap(spec.inner) } : {}),
    ...(spec.initialSlots?.length ? { initialSlots: spec.initialSlots } : {}),
    ...(spec.initialData ? { initialData: Buffer.from(spec.initialData).toString('base64') } : {}),
    placement: placements[index],
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

/** The BPF programs carried by a manifest, for the interpreter. */
export function manifestPrograms(manifest: Manifest): Program[] {
  return manifest.programs.map((p) => ({
    name: p.name,
    section: p.section,
    insns: decode(new Uint8Array(Buffer.from(p.code, 'base64'))),
    funcs: p.funcs,
  }));
}
