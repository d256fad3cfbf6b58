// The loaded object as every later stage sees it: maps and programs with relocations
// already applied. compiler/object.ts builds it from an ELF file; compiler/asm.ts builds
// a bare one from assembler text; the verifier, codegen and the interpreter consume it.

import type { Insn } from './isa.js';
import type { MapShape } from './map-types.js';

/** A field of a BTF-described key or value, flattened for the manifest (offsets in bytes). */
export interface FieldLayout {
  name: string;
  offset: number;
  size: number;
  /** C-like type text, e.g. `__u32`, `__u8[16]`, `struct flow_key`. */
  type: string;
}

/** What BTF says about a key or value type; absent for legacy maps. */
export interface TypeLayout {
  name: string;
  size: number;
  fields: FieldLayout[];
}

export interface MapSpec extends MapShape {
  /** Symbol name (`vip_map`), or the section for global data (`.rodata`). */
  name: string;
  /** Section the definition came from: `.maps`, `maps` (legacy), `.data`, `.rodata`, `.bss`, ... */
  section: string;
  key?: TypeLayout;
  value?: TypeLayout;
  /** Inner-map template for array_of_maps / hash_of_maps (`__array(values, ...)`). */
  inner?: MapSpec;
  /** Initial outer slots from `__array` initialisers: slot index -> map name (or program name for prog_array). */
  initialSlots?: { index: number; target: string }[];
  /** Initial contents of a global-data map's single value. */
  initialData?: Uint8Array;
  /** `__uint(pinning, ...)` when present. */
  pinning?: number;
}

/** A function inside a program's instruction stream (index 0 is the entry). */
export interface FuncInfo {
  name: string;
  /** First slot of the function in `Program.insns`. */
  start: number;
  /**
   * A global (non-static) function other than the entry, with its BTF signature: the
   * kernel verifies it once on its own, from these argument types, not in each caller's context.
   */
  global?: GlobalFunc;
}

/** What a global function's argument is, from BTF (the kernel's btf_prepare_func_args). */
export type GlobalArg =
  | { kind: 'scalar' }
  | { kind: 'ctx' }
  /** A pointer to `size` bytes of memory, or NULL. */
  | { kind: 'mem'; size: number }
  /** A type the kernel refuses, with its reason. */
  | { kind: 'unsupported'; reason: string };

export interface GlobalFunc {
  args: GlobalArg[];
  /** Set when the kernel refuses the signature (e.g. a return type that is not a scalar). */
  unsupported?: string;
}

export interface Program {
  /** Function symbol name (`balancer_ingress`). */
  name: string;
  /** ELF section (`xdp`, `xdp.frags`, `tc`, `.text` for conformance programs). */
  section: string;
  /**
   * Instructions with relocations applied, libbpf-style: `.text` subprograms the program
   * calls are appended after it and local-call immediates point at them; `ld_imm64` map
   * references are rewritten to PSEUDO.MAP_IDX (imm = index into `BpfObject.maps`) and
   * PSEUDO.MAP_IDX_VALUE (imm = map index, second-slot imm = byte offset in the value).
   */
  insns: Insn[];
  funcs: FuncInfo[];
  /** Source line per slot when .BTF.ext line_info is present (for error messages). */
  lines?: Map<number, string>;
}

export interface BpfObject {
  /** Path or label of the input, for messages. */
  source: string;
  license: string;
  maps: MapSpec[];
  programs: Program[];
}
