// Mutation fuzzing of real objects through the whole compiler: flipped bytes, truncations
// and patched header fields must end in success or a UserError (one clear message) —
// never another exception, never a hang. FUZZ_MUTANTS (default 3000) and FUZZ_SEED.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { UserError } from '../../core/errors.js';
import { Rng } from '../support/fuzz/rng.js';
import { compileBpf } from '../support/clang.js';
import { exampleBytes } from '../support/examples.js';
import { packageRoot } from '../../core/package-root.js';
import { report } from '../support/report.js';

const root = packageRoot;
const MUTANTS = Number(process.env.FUZZ_MUTANTS ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const SLOW_MS = 5000;

// Real objects with BTF-defined maps, map-in-map, global data, subprograms, legacy maps.
const seeds = [
  ...['kernel/parse_count.c', 'bad/unknown_helper.c'].map((f) => new Uint8Array(readFileSync(compileBpf(join(root, 'test', 'fixtures', f))))),
  ...['maps_zoo', 'xdp_acl', 'legacy_maps', 'xdp_counter'].map((name) => exampleBytes(name)),
];

function mutate(rng: Rng, original: Uint8Array): Uint8Array {
  const bytes = original.slice();
  const view = new DataView(bytes.buffer);
  switch (rng.below(4)) {
    case 0: // a few random bytes
      for (let i = 0, n = 1 + rng.below(8); i < n; i++) bytes[rng.below(bytes.length)] = rng.below(256);
      break;
    case 1: // truncation
      return bytes.slice(0, rng.below(bytes.length));
    case 2: { // a section header field (offset, size, link, info, name)
      const shoff = Number(view.getBigUint64(40, true));
      const shnum = view.getUint16(60, true);
      const at = shoff + 64 * rng.below(shnum) + [0, 4, 24, 32, 40, 44][rng.below(6)]!;
      if (at + 4 <= bytes.length) view.setUint32(at, rng.u32() >>> (rng.below(2) ? 0 : 20), true);
      break;
    }
    default: { // bytes inside the code, BTF or relocations: flip bits in a 64-byte window
      const at = rng.below(Math.max(1, bytes.length - 64));
      for (let i = 0; i < 4; i++) bytes[at + rng.below(64)]! ^= 1 << rng.below(8);
    }
  }
  return bytes;
}

test(`${MUTANTS} mutated objects: success or one clear user error`, () => {
  const rng = new Rng(SEED);
  const outcome = { compiled: 0, refused: 0 };
  for (let i = 0; i < MUTANTS; i++) {
    const input = mutate(rng, seeds[i % seeds.length]!);
    const started = Date.now();
    try {
      compileObject(loadObject(input, `mutant${i}.o`), { optimize: 0 });
      outcome.compiled++;
    } catch (e) {
      if (!(e instanceof UserError)) {
        assert.unreachable(`mutant ${i} (seed ${SEED}) threw ${(e as Error)?.stack ?? e}`);
      }
      assert.not.match((e as Error).message, /\n/, `mutant ${i}: message must be one line: ${JSON.stringify((e as Error).message)}`);
      outcome.refused++;
    }
    assert.ok(Date.now() - started < SLOW_MS, `mutant ${i} took ${Date.now() - started} ms`);
  }
  report(`object fuzz: ${MUTANTS} mutants, ${outcome.compiled} compiled, ${outcome.refused} refused with a user error`);
});

test.run();
