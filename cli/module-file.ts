// The program a packet command executes: a module bpf2wasm compiled, or an eBPF object
// compiled here on the spot (so `bpf2wasm run balancer.bpf.o` works without a separate
// step). The compiler (and binaryen with it) is loaded only for an object.

import { readInputFile } from '../core/files.js';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

export async function readModuleFile(path: string, maxCpus?: number): Promise<Uint8Array> {
  const bytes = readInputFile(path);
  if (!ELF_MAGIC.every((b, i) => bytes[i] === b)) return bytes;
  const [{ loadObject }, { compileObject }] = await Promise.all([import('../compiler/object.js'), import('../compiler/compile.js')]);
  return compileObject(loadObject(bytes, path), { maxCpus }).wasm;
}
