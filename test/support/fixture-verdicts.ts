// The two verdicts on a fixture's first program, as the hostile and spin-lock tests compare
// them: bpf2wasm's memory-safety model's refusal (its message) and the kernel's (libbpf's
// load error), each undefined when the program is accepted.

import { readFileSync } from 'node:fs';
import { loadObject } from '../../compiler/object.js';
import { verify } from '../../compiler/verifier/index.js';
import { VerifyError } from '../../core/errors.js';
import { KernelObject } from '../../native/kernel.js';

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
