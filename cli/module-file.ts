// The program a live run executes: a module bpf2wasm compiled, or an eBPF object compiled
// here on the spot (so `bpf2wasm run balancer.bpf.o` works without a separate step).

import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { loadObject } from '../compiler/object.js';
import { compileObject } from '../compiler/compile.js';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

export function readModuleFile(path: string, maxCpus?: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (ELF_MAGIC.every((b, i) => bytes[i] === b)) return compileObject(loadObject(bytes, path), { maxCpus }).wasm;
  return bytes;
}
