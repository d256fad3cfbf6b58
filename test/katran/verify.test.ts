// katran's three builds (KATRAN_BPF_OBJ default, KATRAN_TPR_BPF_OBJ, KATRAN_GUE_BPF_OBJ;
// built outside this repository) through the memory-safety model, the verifier's default:
// the kernel loads all three (test/katran/fixtures runs them in the kernel), so the model
// must accept them, within its own limits (1M instructions processed, 8192 pending
// branches), which is what precision tracking and read marks make possible. Reports the
// time and the work per build.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadObject } from '../../compiler/object.js';
import { verify } from '../../compiler/verifier/index.js';
import { report } from '../support/report.js';
import { skip } from '../support/skip.js';

const BUILDS = [
  { label: 'default', variable: 'KATRAN_BPF_OBJ' },
  { label: 'tpr', variable: 'KATRAN_TPR_BPF_OBJ' },
  { label: 'gue', variable: 'KATRAN_GUE_BPF_OBJ' },
] as const;

for (const { label, variable } of BUILDS) {
  test(`katran (${label} build) is accepted by the memory-safety model`, () => {
    const path = process.env[variable];
    if (!path) return void skip(`katran ${label} verify`, 'katran-object', `set ${variable} to that build's balancer.bpf.o`);
    const obj = loadObject(new Uint8Array(readFileSync(path)), path);
    assert.equal(
      obj.programs.map((p) => p.name),
      ['balancer_ingress'],
    );
    const prog = obj.programs[0]!;
    const cpu = process.cpuUsage();
    const started = performance.now();
    let result;
    try {
      result = verify(prog, obj.maps, { memorySafety: true });
    } catch (e) {
      return void assert.unreachable(`${label}: ${(e as Error).message}`);
    }
    const wall = performance.now() - started;
    const used = process.cpuUsage(cpu);
    report(
      `katran ${label} verify: ${wall.toFixed(0)} ms (cpu ${((used.user + used.system) / 1000).toFixed(0)} ms), ` +
        `${result.processed} insns processed, ${result.statesKept} states kept`,
    );
  });
}

test.run();
