// The two verdicts on a fixture's first program, as the hostile and spin-lock tests compare
// them: bpf2wasm's memory-safety model's refusal (its message) and the kernel's (libbpf's
// load error), each undefined when the program is accepted.

import { readFileSync } from 'node:fs';
import { loadObject } from '../../compiler/object.js';
import { verify } from '../../compiler/verifier/index.js';
import { VerifyError } from '../../core/errors.js';
import { join } from 'node:path';
import { KernelObject } from '../../native/kernel.js';
import { compileBpf } from './clang.js';

export function ourVerdict(path: string): string | undefined {
  const obj = loadObject(new Uint8Array(readFileSync(path)), path);
  try {
    verify(obj.programs[0]!, obj.maps, { memorySafety: true });
    return undefined;
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e;
    return e.message;
  }
}

export function kernelVerdict(path: string): string | undefined {
  try {
    KernelObject.load(path).close();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** `file` (no .c) of `dir` compiled once, its object's path on every later call. */
export function fixtureObjects(dir: string): (file: string) => string {
  const objects = new Map<string, string>();
  return (file) => {
    let path = objects.get(file);
    if (!path) objects.set(file, (path = compileBpf(join(dir, `${file}.c`))));
    return path;
  };
}
