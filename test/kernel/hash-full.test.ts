// Hash and per-CPU hash maps full or nearly full, against the kernel: preallocated (the
// default: a free list of max_entries elements, plus per-CPU "extra" elements so that
// replacing an existing key of a full map never fails) and BPF_F_NO_PREALLOC (a count
// checked only when the key is new), 4 to 16 entries (test/fixtures/kernel/hash_full.c).
// Updates (ANY / NOEXIST / EXIST, and invalid flags), deletes and lookups come from the
// program (helpers, one operation per packet: the compiled module's own hash update on
// wasm, the runtime's maps on the interpreter) and from the control plane (the runtime's
// map API; the kernel's BPF_MAP_UPDATE_ELEM), interleaved. Every answer must be the
// kernel's, and at the end every map's contents and the program's `results` array.
// get_next_key with deletes in between: the hash function is not the kernel's (README),
// so the order differs; what must agree is the set of keys visited, the restart from the
// first key when the given key is missing, and what is left.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { ERRNO } from '../../core/errno.js';
import { compileBpf } from '../support/clang.js';
import { possibleCpus } from '../support/cpus.js';
import { fixtureEngines, s64le, u32le, type FixtureEngine, type UpdateFlags } from '../support/fixture-engines.js';
import { Rng } from '../support/fuzz/rng.js';
import { report } from '../support/report.js';
import { skip } from '../support/skip.js';
import { mapOpFrame } from '../support/map-op-frame.js';

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'kernel', 'hash_full.c'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const MAPS = [
  { name: 'hash_pre_4', size: 4 },
  { name: 'hash_nopre_4', size: 4 },
  { name: 'hash_pre_16', size: 16 },
  { name: 'hash_nopre_13', size: 13 },
  { name: 'pcpu_pre_4', size: 4 },
  { name: 'pcpu_nopre_4', size: 4 },
  { name: 'pcpu_pre_16', size: 16 },
  { name: 'pcpu_nopre_11', size: 11 },
] as const;

type Via = 'program' | 'control';
interface Step {
  via: Via;
  op: 'lookup' | 'update' | 'delete';
  key: number;
  value?: bigint;
  /** Update flags as the helper takes them: 0 ANY, 1 NOEXIST, 2 EXIST, more is invalid. */
  flags?: number;
}

const FLAG_NAME: UpdateFlags[] = ['any', 'noexist', 'exist'];
const ERRNO_NAME = new Map(Object.entries(ERRNO).map(([name, n]) => [-n, name]));

/** One operation as a frame (hash_full.c's layout: the result goes to `slot`). */
const frame = (step: Step, map: number, slot: number): Uint8Array =>
  mapOpFrame(['lookup', 'update', 'delete'].indexOf(step.op), map, step.key, step.value ?? 0n, step.flags ?? 0, slot);

/**
 * The answer of one engine to one step, in one vocabulary for both paths: 'ok' or an
 * errno name for updates and deletes, 'miss' or the value (this CPU's) for lookups.
 */
function perform(engine: FixtureEngine, map: string, index: number, step: Step, slot: number): string {
  if (step.via === 'program') {
    const r = engine.run('hash_full', frame(step, index, slot));
    const dv = new DataView(r.packet.buffer, r.packet.byteOffset);
    const result = Number(dv.getBigInt64(32, true));
    if (r.actionName !== 'XDP_TX') return `verdict ${r.actionName}${r.fault ? ` (${r.fault})` : ''}`;
    if (step.op === 'lookup') return result ? hex(r.packet.subarray(40, 48)) : 'miss';
    return result === 0 ? 'ok' : (ERRNO_NAME.get(result) ?? String(result));
  }
  const key = u32le(step.key);
  if (step.op === 'lookup') {
    const value = engine.get(map, key);
    return value ? hex(value.subarray(0, 8)) : 'miss';
  }
  if (step.op === 'delete') return engine.remove(map, key);
  return engine.update(map, key, s64le(step.value ?? 0n), FLAG_NAME[step.flags ?? 0]!);
}

/** Runs `fn` with the three engines, or skips without the kernel. */
function withEngines(what: string, fn: (engines: FixtureEngine[], kernel: FixtureEngine) => void): void {
  const engines = fixtureEngines(object, { maxCpus: possibleCpus() });
  const kernel = engines.find((e) => e.name === 'kernel')!;
  try {
    if (kernel.missing) {
      skip(what, kernel.missing);
      return;
    }
    fn(engines, kernel);
  } finally {
    for (const e of engines) e.close();
  }
}

/** Every engine's answer to `step`, which must be the kernel's; returns it. */
function agree(engines: FixtureEngine[], map: string, index: number, step: Step, slot: number, where: string): string {
  const answers = engines.map((e) => perform(e, map, index, step, slot));
  const want = answers[answers.length - 1]!;
  for (const [j, e] of engines.entries()) {
    assert.is(answers[j], want, `${e.name}, ${where}: ${step.via} ${step.op} key ${step.key} flags ${step.flags ?? '-'}`);
  }
  return want;
}

function finalContents(engines: FixtureEngine[], kernel: FixtureEngine, map: string): string[] {
  const final = kernel.dump(map);
  for (const e of engines) assert.equal(e.dump(map), final, `${e.name}: final contents of ${map}`);
  const results = kernel.dump('results');
  for (const e of engines) assert.equal(e.dump('results'), results, `${e.name}: the program's results array`);
  return final;
}

// ---- a full map, step by step, answers derived by hand from hashtab.c -------------------

/** Fill, refuse a new key, replace existing ones (repeatedly: the extra elements rotate), delete, insert again. */
function fullMapScript(size: number, via: (i: number) => Via): [Step, string][] {
  const steps: [Omit<Step, 'via'>, string][] = [];
  for (let k = 1; k <= size; k++) steps.push([{ op: 'update', key: k, value: BigInt(k), flags: 1 }, 'ok']);
  const fresh = size + 1;
  steps.push(
    [{ op: 'update', key: fresh, value: 1n, flags: 0 }, 'E2BIG'],
    [{ op: 'update', key: fresh, value: 1n, flags: 1 }, 'E2BIG'],
    [{ op: 'update', key: fresh, value: 1n, flags: 2 }, 'ENOENT'],
    [{ op: 'update', key: 3, value: 3n, flags: 1 }, 'EEXIST'],
    [{ op: 'update', key: 2, value: 0x22n, flags: 2 }, 'ok'],
    [{ op: 'update', key: 1, value: 0x11n, flags: 4 }, 'EINVAL'],
  );
  // More replacements than there are elements and CPUs: a preallocated map swaps the old
  // element with this CPU's extra one each time, and never runs short.
  for (let i = 0; i < size + 8; i++) steps.push([{ op: 'update', key: 1, value: BigInt(0x100 + i), flags: i % 2 ? 2 : 0 }, 'ok']);
  steps.push(
    [{ op: 'lookup', key: 1 }, hex(s64le(BigInt(0x100 + size + 7)))],
    [{ op: 'lookup', key: fresh }, 'miss'],
    [{ op: 'delete', key: 2 }, 'ok'],
    [{ op: 'delete', key: 2 }, 'ENOENT'],
    [{ op: 'update', key: fresh, value: 0x77n, flags: 2 }, 'ENOENT'],
    [{ op: 'update', key: fresh, value: 0x77n, flags: 1 }, 'ok'],
    [{ op: 'update', key: fresh + 1, value: 0x78n, flags: 0 }, 'E2BIG'],
    [{ op: 'update', key: fresh, value: 0x79n, flags: 0 }, 'ok'],
    [{ op: 'lookup', key: fresh }, hex(s64le(0x79n))],
    [{ op: 'lookup', key: 2 }, 'miss'],
  );
  return steps.map(([s, want], i) => [{ ...s, via: via(i) }, want]);
}

const SCRIPTS: [string, (i: number) => Via][] = [
  ['from the program', () => 'program'],
  ['from the control plane', () => 'control'],
  ['alternating program and control plane', (i) => (i % 2 ? 'control' : 'program')],
];

MAPS.forEach(({ name, size }, index) => {
  for (const [how, via] of SCRIPTS) {
    test(`${name}: full, ${how}: E2BIG for a new key, replacing and deleting as the kernel`, () => {
      withEngines(`${name} ${how}`, (engines, kernel) => {
        const script = fullMapScript(size, via).filter(([s]) => !(s.via === 'control' && s.flags === 4));
        script.forEach(([step, want], i) => {
          const got = agree(engines, name, index, step, i, `step ${i}`);
          assert.is(got, want, `step ${i}: ${step.via} ${step.op} key ${step.key} flags ${step.flags ?? '-'}`);
        });
        const keys = finalContents(engines, kernel, name).map((e) => Buffer.from(e.split('=')[0]!, 'hex').readUInt32LE(0));
        const want = [1, ...Array.from({ length: size - 2 }, (_, i) => i + 3), size + 1];
        assert.equal(
          keys.sort((a, b) => a - b),
          want,
          'what is left',
        );
        report(
          `hash full ${name} ${how}: ${script.length} steps answered as the kernel (E2BIG, EEXIST, ENOENT, in-place replacement of a full map), contents equal`,
        );
      });
    });
  }
});

// ---- a seeded random mix near full, program and control plane interleaved ---------------

MAPS.forEach(({ name, size }, index) => {
  test(`${name}: 1500 operations near full, program and control plane interleaved, as the kernel`, () => {
    withEngines(`${name} random`, (engines, kernel) => {
      const rng = new Rng(0x4a5 + index);
      const present = new Set<number>();
      const seen = { e2big: 0, fullReplaced: 0, refilled: 0, control: 0 };
      let freed = false;
      for (let i = 0; i < 1500; i++) {
        const via: Via = rng.chance(0.3) ? 'control' : 'program';
        const roll = rng.below(100);
        const op = roll < 60 ? 'update' : roll < 85 ? 'delete' : 'lookup';
        const key = rng.below(size + (size >> 1) + 2);
        const flagRoll = rng.below(100);
        let flags = flagRoll < 60 ? 0 : flagRoll < 80 ? 1 : 2;
        if (via === 'program' && flagRoll >= 98) flags = 3 + (flagRoll & 1);
        const step: Step = { via, op, key, value: BigInt(i + 1), flags };
        const wasFull = present.size === size;
        const got = agree(engines, name, index, step, i, `operation ${i}`);
        if (via === 'control') seen.control++;
        // Coverage, from the kernel's answers: which cases of a full map came up.
        if (got === 'E2BIG') seen.e2big++;
        if (op === 'update' && got === 'ok') {
          if (wasFull && present.has(key)) seen.fullReplaced++;
          if (!present.has(key) && freed) seen.refilled++;
          present.add(key);
        }
        if (op === 'delete' && got === 'ok') {
          freed = present.size === size;
          present.delete(key);
        } else if (op === 'update' && got === 'ok') freed = false;
      }
      const final = finalContents(engines, kernel, name);
      assert.is(final.length, present.size, 'the contents follow the answers');
      assert.ok(seen.e2big > 0 && seen.fullReplaced > 0 && seen.refilled > 0, `full-map cases covered: ${JSON.stringify(seen)}`);
      report(
        `hash full ${name}: 1500 operations (${seen.control} control plane; ${seen.e2big} E2BIG, ${seen.fullReplaced} replacements in a full map, ${seen.refilled} inserts right after a delete freed a full map) as the kernel`,
      );
    });
  });
});

// ---- get_next_key with deletes in between ------------------------------------------------

interface Walk {
  visited: number[];
  restarts: number;
}

const keyOf = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(0, true);

/**
 * Walks `map` with get_next_key, deleting the keys `drop` picks right after visiting them
 * and continuing from the deleted key, which the kernel answers with the first key left.
 */
function walkDeleting(engine: FixtureEngine, map: string, drop: (key: number) => boolean, limit: number): Walk {
  const walk: Walk = { visited: [], restarts: 0 };
  let prev: Uint8Array | undefined;
  for (let next = engine.nextKey(map); next; next = engine.nextKey(map, prev)) {
    assert.ok(walk.visited.length < limit, `${engine.name}: the walk of ${map} ends`);
    walk.visited.push(keyOf(next));
    if (prev && !engine.get(map, prev)) {
      assert.equal(next, engine.nextKey(map), `${engine.name}: get_next_key of a deleted key restarts at the first`);
      walk.restarts++;
    }
    prev = next;
    if (drop(keyOf(next))) assert.is(engine.remove(map, next), 'ok', `${engine.name}: delete of a visited key`);
  }
  return walk;
}

MAPS.forEach(({ name, size }) => {
  test(`${name}: get_next_key with deletes in between visits the kernel's keys and restarts as it does`, () => {
    withEngines(`${name} get_next_key`, (engines, kernel) => {
      const keys = Array.from({ length: size }, (_, i) => i * 7 + 1);
      const fill = (): void => {
        for (const e of engines) for (const k of keys) assert.is(e.update(name, u32le(k), s64le(BigInt(k)), 'noexist'), 'ok');
      };
      const sorted = (list: number[]): number[] => [...new Set(list)].sort((a, b) => a - b);
      fill();
      for (const e of engines) {
        const first = e.nextKey(name);
        assert.ok(first, `${e.name}: a first key`);
        assert.equal(e.nextKey(name, u32le(1000)), first, `${e.name}: a key never in the map restarts at the first`);
        const plain = walkDeleting(e, name, () => false, size + 1);
        assert.equal(plain.visited.length, size, `${e.name}: each key once`);
        assert.equal(sorted(plain.visited), keys, `${e.name}: every key`);
        assert.is(e.nextKey(name, u32le(plain.visited[plain.visited.length - 1]!)), undefined, `${e.name}: nothing after the last`);
      }
      // Deleting every other key as it is visited: a restart per deletion; the kept keys
      // are visited again after each restart, so the walk is longer than the map.
      const odd = (k: number): boolean => ((k - 1) / 7) % 2 === 1;
      const walks = engines.map((e) => walkDeleting(e, name, odd, size * size + 2));
      for (const [j, e] of engines.entries()) {
        assert.equal(sorted(walks[j]!.visited), keys, `${e.name}: every key visited`);
        assert.is(walks[j]!.restarts, walks[walks.length - 1]!.restarts, `${e.name}: restarts as the kernel`);
      }
      const kept = finalContents(engines, kernel, name);
      assert.is(kept.length, keys.filter((k) => !odd(k)).length, 'the even keys are left');
      // Deleting each key as it is visited, until none is left; then the deleted map refills.
      const all = engines.map((e) => walkDeleting(e, name, () => true, size * size + 2));
      for (const [j, e] of engines.entries()) {
        assert.equal(sorted(all[j]!.visited), sorted(keys.filter((k) => !odd(k))), `${e.name}: every key left visited`);
        assert.is(all[j]!.visited.length, kept.length, `${e.name}: each once (each restart finds the next key first)`);
        assert.is(e.nextKey(name), undefined, `${e.name}: empty`);
      }
      fill();
      assert.is(finalContents(engines, kernel, name).length, size, 'full again after the walk emptied it');
      report(
        `hash full ${name}: get_next_key walks with deletes (${walks[0]!.restarts} restarts, ${walks[0]!.visited.length} visits over ${size} keys) visit the kernel's keys, restart as it does, leave its contents`,
      );
    });
  });
});

test.run();
