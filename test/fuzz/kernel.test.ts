// Differential fuzzing against the kernel, the one oracle that shares no code with us:
// random XDP programs with packet access and helpers (test/support/fuzz/xdp-source.ts),
// compiled by clang, loaded into the kernel, whose verifier keeps the valid ones; each
// kept program then runs over a few corpus frames in the kernel (BPF_PROG_TEST_RUN), as
// compiled wasm and on the interpreter, and the verdict, the output bytes and, after the
// last frame, every map's contents must agree.
//
// Known difference, kept out of the generator (xdp-source.ts, 'call'): a subprogram whose
// result no caller uses may exit with r0 uninitialised (clang emits that); the kernel
// accepts it, our verifier refuses it ("r0 is read before it is initialised").
//
// FUZZ_KERNEL_COUNT programs (default 200) from FUZZ_KERNEL_SEED (default 1); a longer run:
// FUZZ_KERNEL_COUNT=5000 node dist/test/fuzz/kernel.test.js

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine, type XdpWorker } from '../../runtime/machine.js';
import { XDP_ACTION_NAME } from '../../runtime/xdp.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { corpus, jumboFrame, type Frame } from '../../packets/corpus.js';
import { UserError } from '../../core/errors.js';
import { Rng } from '../support/fuzz/rng.js';
import { generateXdpSource, type XdpSource } from '../support/fuzz/xdp-source.js';
import { compileSources } from '../support/fuzz/clang-batch.js';
import { skip } from '../support/skip.js';
import { report } from '../support/report.js';

const COUNT = Number(process.env.FUZZ_KERNEL_COUNT ?? 200);
const SEED = Number(process.env.FUZZ_KERNEL_SEED ?? 1);
const BATCH = 50;
const FRAMES_PER_PROGRAM = 4;
const MAPS = ['hmap', 'amap', 'out'];
// FUZZ_KERNEL_QUIET=1 leaves the sources out of failure messages (for triage).
const SHOW_SOURCE = process.env.FUZZ_KERNEL_QUIET !== '1';
// FUZZ_KERNEL_VERBOSE=1 prints why the kernel refused each program it refused.
const VERBOSE = process.env.FUZZ_KERNEL_VERBOSE === '1';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const counts = { generated: 0, clangRefused: 0, accepted: 0, compared: 0, frames: 0, mismatches: 0 };
const CORPUS: Frame[] = corpus();
const JUMBO: Frame = jumboFrame();

function clangMissing(): string | undefined {
  try {
    execFileSync('clang', ['--version'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'clang is not on PATH';
  }
}

/** The frames one program runs over, chosen by its seed. */
function framesFor(seed: number): Frame[] {
  const rng = new Rng(seed ^ 0x5eed);
  // The jumbo frame (multi-buffer) more often than its share of the corpus.
  return Array.from({ length: FRAMES_PER_PROGRAM }, () => (rng.chance(0.1) ? JUMBO : rng.pick(CORPUS)));
}

/**
 * The packet as BPF_PROG_TEST_RUN returns it: from data_meta, so metadata a program
 * reserved (bpf_xdp_adjust_meta) comes first.
 */
function testRunOutput(worker: XdpWorker, packet: Uint8Array): Uint8Array {
  const { data, dataMeta } = worker.xdp;
  if (dataMeta === data) return packet;
  const meta = new Uint8Array(worker.machine.memory.buffer, dataMeta, data - dataMeta);
  return Buffer.concat([meta, packet]);
}

/** What differs between the kernel and our engines for one accepted program (empty: nothing). */
function compare(source: XdpSource, object: string, kernel: KernelObject): string[] {
  const obj = loadObject(new Uint8Array(readFileSync(object)), object);
  let wasm: Uint8Array;
  try {
    // Alternate optimisation levels so both the plain and the optimised translation are checked.
    wasm = compileObject(obj, { optimize: source.seed % 3 }).wasm;
  } catch (e) {
    return [`the kernel accepts it, our compiler does not: ${(e as Error).message}`];
  }
  const loaded = loadWasm(wasm, source.name);
  const engines = ['wasm', 'interp'] as const;
  const machines = { wasm: BpfMachine.create(loaded), interp: BpfMachine.create(loaded) };
  const workers = { wasm: machines.wasm.worker(0, { engine: 'wasm' }), interp: machines.interp.worker(0, { engine: 'interp' }) };
  // The first difference of each engine: a frame's verdict and bytes, else a map.
  const found = new Map<string, string>();
  for (const frame of framesFor(source.seed)) {
    let run;
    try {
      run = kernel.testRun(source.name, frame.bytes);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      // The kernel refuses the frame itself (shorter than Ethernet, too large): so must we.
      for (const engine of engines) {
        try {
          workers[engine].runXdp(source.name, frame.bytes);
          if (!found.has(engine)) found.set(engine, `${engine} accepts frame '${frame.name}', which the kernel refuses (${e.message})`);
        } catch {
          // refused too
        }
      }
      continue;
    }
    counts.frames++;
    const want = `${XDP_ACTION_NAME[run.retval] ?? run.retval} ${hex(run.data)}`;
    for (const engine of engines) {
      const r = workers[engine].runXdp(source.name, frame.bytes);
      const got = `${r.actionName} ${hex(r.fault ? r.packet : testRunOutput(workers[engine], r.packet))}`;
      if (got !== want && !found.has(engine)) {
        found.set(
          engine,
          `${engine} on frame '${frame.name}'${r.fault ? ` (fault: ${r.fault})` : ''}:\n  kernel ${want}\n  ${engine.padEnd(6)} ${got}`,
        );
      }
    }
  }
  for (const map of MAPS) {
    const render = (entries: Iterable<{ key: Uint8Array; value: Uint8Array }>): string =>
      [...entries]
        .map((e) => `${hex(e.key)}=${hex(e.value)}`)
        .sort()
        .join(' ');
    const theirs = render(kernel.dump(map).map((e) => ({ key: e.key, value: e.values[0]! })));
    for (const engine of engines) {
      const ours = render([...machines[engine].maps.byNameOrThrow(map).entries()].map(([key, value]) => ({ key, value })));
      if (ours !== theirs && !found.has(engine))
        found.set(engine, `${engine}: map ${map} after the frames:\n  kernel ${theirs}\n  ${engine.padEnd(6)} ${ours}`);
    }
  }
  return [...found.values()];
}

const unavailable = kernelMissing() ?? (clangMissing() ? { need: 'clang' as const, detail: clangMissing()! } : undefined);

for (let first = 0; first < COUNT; first += BATCH) {
  const last = Math.min(first + BATCH, COUNT);
  test(`programs ${SEED + first}..${SEED + last - 1}: the kernel, wasm and the interpreter agree`, () => {
    if (unavailable) return void skip(`kernel fuzzing of programs ${SEED + first}..${SEED + last - 1}`, unavailable);
    const sources = Array.from({ length: last - first }, (_, i) => generateXdpSource(SEED + first + i));
    counts.generated += sources.length;
    const { objects, refused } = compileSources(sources);
    const failures = refused.map(
      ({ source, stderr }) =>
        `seed ${source.seed}: clang refuses the generated C:\n${stderr.slice(0, 1000)}\n${SHOW_SOURCE ? source.source : ''}`,
    );
    counts.clangRefused += refused.length;
    for (const source of sources) {
      if (!objects.has(source.name)) continue;
      let kernel: KernelObject;
      try {
        kernel = KernelObject.load(objects.get(source.name)!);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        // The verifier's call: not a valid program.
        if (VERBOSE) console.log(`seed ${source.seed} refused by the kernel: ${e.message.slice(-300)}`);
        continue;
        throw e;
      }
      counts.accepted++;
      try {
        const mismatch = compare(source, objects.get(source.name)!, kernel);
        counts.compared++;
        if (mismatch.length > 0) {
          counts.mismatches++;
          failures.push(`seed ${source.seed} (-mcpu=${source.cpu}): ${mismatch.join('\n')}\n${SHOW_SOURCE ? source.source : ''}`);
        }
      } finally {
        kernel.close();
      }
    }
    assert.is(failures.length, 0, `${failures.length} failures:\n${failures.slice(0, SHOW_SOURCE ? 3 : failures.length).join('\n\n')}`);
  });
}

test.after(() => {
  if (counts.generated === 0) return;
  report(
    `kernel fuzz from seed ${SEED}: ${counts.generated} generated, ${counts.clangRefused} refused by clang, ${counts.accepted} kernel-accepted, ${counts.compared} compared over ${counts.frames} frames, ${counts.mismatches} mismatches`,
  );
});
test.run();
