// Mutation fuzzing of real objects through the whole compiler: flipped bytes, truncations
// and patched header fields must end in success or a UserError (one clear message) —
// never another exception, never a hang. What compiles must also work: its module loads
// with the manifest the compiler made, and every program gives the same verdict and packet
// on the compiled module and on the interpreter. FUZZ_MUTANTS (default 3000) and FUZZ_SEED.
// The inputs are the same bytes in every checkout (the examples and fixtures are built
// with paths in their debug info relative to the repository), so a seed means one run.
// A hang is caught by the runner's per-file timeout, not by a clock here.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { UserError } from '../../core/errors.js';
import { loadWasm } from '../../runtime/program.js';
import { MapError } from '../../runtime/errors.js';
import { BpfMachine, type Engine } from '../../runtime/machine.js';
import type { CompileResult } from '../../compiler/compile.js';
import { ethernet, ipv4, tcp } from '../../packets/corpus.js';
import { Rng } from '../support/fuzz/rng.js';
import { compileBpf } from '../support/clang.js';
import { exampleBytes } from '../support/examples.js';
import { packageRoot } from '../../core/package-root.js';
import { report } from '../support/report.js';

const root = packageRoot;
const MUTANTS = Number(process.env.FUZZ_MUTANTS ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
/** A small TCP/IPv4 frame for each compiled mutant's programs. */
const PACKET = ethernet(0x0800, ipv4({ src: [192, 168, 1, 1], dst: [10, 0, 0, 1], proto: 6 }, tcp(40000, 80, 0x02, 8)));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Real objects with BTF-defined maps, map-in-map, global data, subprograms, legacy maps.
const seeds = [
  ...['kernel/parse_count.c', 'bad/unknown_helper.c'].map(
    (f) => new Uint8Array(readFileSync(compileBpf(join(root, 'test', 'fixtures', f)))),
  ),
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
    case 2: {
      // a section header field (offset, size, link, info, name)
      const shoff = Number(view.getBigUint64(40, true));
      const shnum = view.getUint16(60, true);
      const at = shoff + 64 * rng.below(shnum) + [0, 4, 24, 32, 40, 44][rng.below(6)]!;
      if (at + 4 <= bytes.length) view.setUint32(at, rng.u32() >>> (rng.below(2) ? 0 : 20), true);
      break;
    }
    default: {
      // bytes inside the code, BTF or relocations: flip bits in a 64-byte window
      const at = rng.below(Math.max(1, bytes.length - 64));
      for (let i = 0; i < 4; i++) bytes[at + rng.below(64)]! ^= 1 << rng.below(8);
    }
  }
  return bytes;
}

/** Each program's verdict and packet on one engine, from a fresh machine (fresh maps), with a fixed clock and random source. */
function verdicts(loaded: ReturnType<typeof loadWasm>, engine: Engine): string[] {
  const machine = BpfMachine.create(loaded);
  const worker = machine.worker(0, { engine, clock: () => 1_000_000n, seed: 7, trace: () => {} });
  return machine.programs.map((p) => {
    const r = worker.runXdp(p.name, PACKET);
    return `${p.name}: ${r.actionName}${r.fault ? '' : ` ${hex(r.packet)}`}`;
  });
}

/**
 * A compiled mutant's module loads with its manifest, and both engines agree on each
 * program. A map the kernel would not create (a value size of 0, say) passes the compiler,
 * as it passes clang, and is refused when the runtime creates it (MapError, a UserError),
 * as libbpf's load would: 'refused' then, and nothing to run.
 */
function validate(i: number, compiled: CompileResult): 'ran' | 'refused' {
  const loaded = loadWasm(compiled.wasm, `mutant${i}.wasm`);
  assert.equal(loaded.manifest, JSON.parse(JSON.stringify(compiled.manifest)), `mutant ${i} (seed ${SEED}): manifest read back differs`);
  try {
    BpfMachine.create(loaded);
  } catch (e) {
    if (!(e instanceof MapError)) throw e;
    return 'refused';
  }
  assert.equal(verdicts(loaded, 'wasm'), verdicts(loaded, 'interp'), `mutant ${i} (seed ${SEED}): wasm and interpreter differ`);
  return 'ran';
}

test(`${MUTANTS} mutated objects: success (a module that works) or one clear user error`, () => {
  const rng = new Rng(SEED);
  const outcome = { compiled: 0, refused: 0, mapsRefused: 0 };
  for (let i = 0; i < MUTANTS; i++) {
    const input = mutate(rng, seeds[i % seeds.length]!);
    let compiled: CompileResult;
    try {
      compiled = compileObject(loadObject(input, `mutant${i}.o`), { optimize: 0 });
    } catch (e) {
      if (!(e instanceof UserError)) {
        assert.unreachable(`mutant ${i} (seed ${SEED}) threw ${(e as Error)?.stack ?? e}`);
      }
      assert.not.match((e as Error).message, /\n/, `mutant ${i}: message must be one line: ${JSON.stringify((e as Error).message)}`);
      outcome.refused++;
      continue;
    }
    outcome.compiled++;
    if (validate(i, compiled) === 'refused') outcome.mapsRefused++;
  }
  const ran = outcome.compiled - outcome.mapsRefused;
  report(
    `object fuzz: ${MUTANTS} mutants from seed ${SEED}: ${outcome.compiled} compiled (${ran} ran alike on wasm and interpreter, ${outcome.mapsRefused} maps refused at load), ${outcome.refused} refused with a user error`,
  );
});

test.run();
