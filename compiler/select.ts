// Which programs of an object a command works on (`--program`, by function or section
// name); apart from the pipeline so that `--disasm` needs no binaryen.

import type { BpfObject, Program } from '../core/model.js';
import { UserError } from '../core/errors.js';

export function selectPrograms(obj: BpfObject, wanted: readonly string[] | undefined): Program[] {
  if (!wanted || wanted.length === 0) {
    if (obj.programs.length === 0) throw new UserError(`${obj.source}: the object has no programs`);
    return [...obj.programs];
  }
  return wanted.map((name) => {
    const found = obj.programs.find((p) => p.name === name) ?? obj.programs.find((p) => p.section === name);
    if (!found) {
      const known = obj.programs.map((p) => `${p.name} (${p.section})`).join(', ') || 'none';
      throw new UserError(`${obj.source}: no program named or in section '${name}'; programs: ${known}`);
    }
    return found;
  });
}
