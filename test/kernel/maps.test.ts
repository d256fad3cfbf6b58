// The Linux kernel as the oracle: the same sequence of updates, deletes and lookups runs
// on a kernel map (through bpftool, as root) and on ours, and every step must give the
// same result (errno name or value), and the final dumps the same keys — in the same order
// for LPM tries, whose get_next_key order is part of their semantics. LRU maps are
// compared under pressure, from a program, in lru-pressure.test.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { MAP_FLAG, MAP_TYPE, MAP_TYPE_NAME } from '../../core/map-types.js';
import { MapError } from '../../runtime/errors.js';
import type { AnyMap } from '../../runtime/maps/index.js';
import { Rng } from '../support/fuzz/rng.js';
import { fixture, hex, type Spec } from '../support/maps-fixture.js';
import { isRoot, skip } from '../support/skip.js';

const ERRNO_BY_TEXT: Record<string, string> = {
  'No such file or directory': 'ENOENT',
  'File exists': 'EEXIST',
  'Argument list too long': 'E2BIG',
  'Invalid argument': 'EINVAL',
  'No space left on device': 'ENOSPC',
  'Cannot allocate memory': 'ENOMEM',
};

type Op =
  | { op: 'update'; key: Uint8Array; value: Uint8Array; flags: 'any' | 'noexist' | 'exist' }
  | { op: 'delete'; key: Uint8Array }
  | { op: 'lookup'; key: Uint8Array };

const FLAG = { any: 0, noexist: 1, exist: 2 } as const;
const hexArgs = (b: Uint8Array): string[] => ['hex', ...[...b].map((x) => x.toString(16).padStart(2, '0'))];

function haveKernel(what: string): boolean {
  if (!isRoot()) return !skip(what, 'root', 'root (bpftool map create)');
  try {
    execFileSync('bpftool', ['version'], { stdio: 'ignore' });
  } catch {
    return !skip(what, 'host-tool', 'bpftool');
  }
  if (!existsSync('/sys/fs/bpf')) return !skip(what, 'kernel-bpf', 'bpffs at /sys/fs/bpf');
  return true;
}

class KernelMap {
  readonly pin = `/sys/fs/bpf/bpf2wasm_maps_test_${process.pid}`;
  constructor(spec: Spec) {
    rmSync(this.pin, { force: true });
    execFileSync('bpftool', [
      'map',
      'create',
      this.pin,
      'type',
      MAP_TYPE_NAME[spec.type]!,
      'key',
      String(spec.keySize),
      'value',
      String(spec.valueSize),
      'entries',
      String(spec.maxEntries),
      'name',
      'b2w_test',
      'flags',
      String(spec.flags ?? 0),
    ]);
  }

  private run(args: string[]): { ok: boolean; out: string } {
    try {
      return { ok: true, out: execFileSync('bpftool', ['-j', 'map', ...args], { encoding: 'utf8' }) };
    } catch (e) {
      return { ok: false, out: String((e as { stdout?: string }).stdout ?? '') };
    }
  }

  private errno(out: string): string {
    const message = (JSON.parse(out.trim() || '{}') as { error?: string }).error ?? out;
    const text = message.slice(message.lastIndexOf(': ') + 2);
    return ERRNO_BY_TEXT[text] ?? `?${message}`;
  }

  apply(o: Op): string {
    const where = ['pinned', this.pin, 'key', ...hexArgs(o.key)];
    if (o.op === 'update') {
      const r = this.run(['update', ...where, 'value', ...hexArgs(o.value), o.flags]);
      return r.ok ? 'ok' : this.errno(r.out);
    }
    if (o.op === 'delete') {
      const r = this.run(['delete', ...where]);
      return r.ok ? 'ok' : this.errno(r.out);
    }
    const r = this.run(['lookup', ...where]);
    if (!r.ok) return r.out.trim() === 'null' ? 'ENOENT' : this.errno(r.out);
    const parsed = JSON.parse(r.out) as { value: string[] };
    return parsed.value.map((x) => x.slice(2)).join('');
  }

  dumpKeys(): string[] {
    const r = this.run(['dump', 'pinned', this.pin]);
    return (JSON.parse(r.out) as { key: string[] }[]).map((e) => e.key.map((x) => x.slice(2)).join(''));
  }

  close(): void {
    rmSync(this.pin, { force: true });
  }
}

function applyOurs(m: AnyMap, o: Op): string {
  try {
    if (o.op === 'update') m.updateBytes(o.key, o.value, FLAG[o.flags]);
    else if (o.op === 'delete') m.deleteBytes(o.key);
    else return hex(m.lookupBytes(o.key)).replace('absent', 'ENOENT');
    return 'ok';
  } catch (e) {
    if (e instanceof MapError) return e.errno;
    throw e;
  }
}

/** Runs `ops` on both maps and compares step by step, then the dumps. */
function compare(spec: Spec, ops: Op[], ordered: boolean): void {
  const kernel = new KernelMap(spec);
  try {
    const ours = fixture([spec]).map(spec.name);
    ops.forEach((o, i) => {
      const k = kernel.apply(o);
      const u = applyOurs(ours, o);
      assert.is(u, k, `step ${i}: ${o.op} key ${hex(o.key)}${o.op === 'update' ? ` ${o.flags}` : ''}`);
    });
    const ourKeys = [...ours.keys()].map(hex);
    const kernelKeys = kernel.dumpKeys();
    if (ordered) assert.equal(ourKeys, kernelKeys);
    else assert.equal([...ourKeys].sort(), [...kernelKeys].sort());
  } finally {
    kernel.close();
  }
}

const le32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const v4 = (len: number, a: number, b = 0, c = 0, d = 0): Uint8Array => new Uint8Array([...le32(len), a, b, c, d]);
const up = (key: Uint8Array, value: Uint8Array, flags: 'any' | 'noexist' | 'exist' = 'any'): Op => ({ op: 'update', key, value, flags });
const del = (key: Uint8Array): Op => ({ op: 'delete', key });
const get = (key: Uint8Array): Op => ({ op: 'lookup', key });

test('hash: flags, full map, deletes — same results as the kernel', () => {
  if (!haveKernel('kernel hash map comparison')) return;
  const spec = { name: 'h', type: MAP_TYPE.HASH, keySize: 4, valueSize: 4, maxEntries: 3 };
  compare(
    spec,
    [
      up(le32(1), le32(10), 'noexist'),
      up(le32(1), le32(11), 'noexist'),
      up(le32(2), le32(20), 'exist'),
      up(le32(2), le32(20)),
      up(le32(3), le32(30)),
      up(le32(4), le32(40)),
      up(le32(3), le32(31), 'exist'),
      get(le32(3)),
      get(le32(4)),
      del(le32(4)),
      del(le32(2)),
      up(le32(4), le32(41), 'noexist'),
      get(le32(4)),
      get(le32(2)),
      up(le32(5), le32(50)),
    ],
    false,
  );
});

test('array: range, flags and delete — same results as the kernel', () => {
  if (!haveKernel('kernel array map comparison')) return;
  const spec = { name: 'a', type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 };
  compare(
    spec,
    [
      get(le32(0)),
      up(le32(3), le32(7)),
      up(le32(4), le32(7)),
      up(le32(1), le32(7), 'noexist'),
      up(le32(1), le32(8), 'exist'),
      del(le32(1)),
      get(le32(1)),
      get(le32(9)),
    ],
    true,
  );
});

test('lpm trie: intermediate nodes, exact-prefix updates and deletes, ENOSPC, dump order', () => {
  if (!haveKernel('kernel lpm_trie comparison')) return;
  const spec = { name: 't', type: MAP_TYPE.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 4, flags: MAP_FLAG.NO_PREALLOC };
  compare(
    spec,
    [
      up(v4(16, 10, 1), le32(1)),
      up(v4(16, 10, 2), le32(2)),
      get(v4(32, 10, 3, 0, 1)),
      up(v4(14, 10), le32(3), 'exist'),
      up(v4(14, 10), le32(3)),
      get(v4(32, 10, 3, 0, 1)),
      up(v4(8, 10), le32(4), 'noexist'),
      up(v4(24, 10, 1, 2), le32(5)),
      up(v4(8, 10), le32(6), 'noexist'),
      up(v4(33, 10), le32(6)),
      get(v4(32, 10, 1, 2, 3)),
      get(v4(32, 10, 1, 9, 3)),
      get(v4(32, 10, 9, 9, 9)),
      get(v4(32, 11, 0, 0, 1)),
      del(v4(14, 10)),
      get(v4(32, 10, 3, 0, 1)),
      del(v4(14, 10)),
      del(v4(16, 10, 1)),
      get(v4(32, 10, 1, 0, 1)),
      del(v4(17, 10, 2)),
      up(v4(0, 0), le32(9)),
      get(v4(32, 99)),
    ],
    true,
  );
});

test('lpm trie: 150 random operations on nested IPv4 prefixes match the kernel step by step', () => {
  if (!haveKernel('kernel lpm_trie random comparison')) return;
  const spec = { name: 't', type: MAP_TYPE.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 12, flags: MAP_FLAG.NO_PREALLOC };
  const rng = new Rng(20240601);
  const lens = [0, 4, 8, 9, 12, 16, 17, 23, 24, 32];
  const key = (): Uint8Array => {
    // Few distinct addresses so prefixes nest and collide often.
    const len = lens[rng.below(lens.length)]!;
    const addr = [10, rng.below(3) * 64, rng.below(2) * 128, rng.below(2)];
    return v4(len, ...(addr as [number, number, number, number]));
  };
  const flags = ['any', 'any', 'noexist', 'exist'] as const;
  const ops: Op[] = [];
  for (let i = 0; i < 150; i++) {
    const r = rng.below(10);
    if (r < 5) ops.push(up(key(), le32(i), flags[rng.below(4)]));
    else if (r < 7) ops.push(del(key()));
    else ops.push(get(v4(32, 10, rng.below(3) * 64, rng.below(2) * 128, rng.below(2))));
  }
  compare(spec, ops, true);
});

test('percpu array: the userspace view (one value per possible CPU, padded to 8) matches the kernel', () => {
  if (!haveKernel('kernel percpu_array comparison')) return;
  const cpus = Number(execFileSync('nproc', ['--all'], { encoding: 'utf8' }).trim());
  const pin = `/sys/fs/bpf/bpf2wasm_maps_test_pc_${process.pid}`;
  rmSync(pin, { force: true });
  try {
    execFileSync('bpftool', ['map', 'create', pin, 'type', 'percpu_array', 'key', '4', 'value', '4', 'entries', '2', 'name', 'b2w_pc']);
    execFileSync('bpftool', ['map', 'update', 'pinned', pin, 'key', ...hexArgs(le32(1)), 'value', ...hexArgs(le32(0x01020304))]);
    const out = JSON.parse(
      execFileSync('bpftool', ['-j', 'map', 'lookup', 'pinned', pin, 'key', ...hexArgs(le32(1))], { encoding: 'utf8' }),
    ) as {
      values: { cpu: number; value: string[] }[];
    };
    const f = fixture([{ name: 'pc', type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 }], cpus);
    const pc = f.map('pc');
    pc.updateBytes(le32(1), le32(0x01020304));
    const ours = pc.lookupBytes(le32(1))!;
    assert.is(ours.length, cpus * 8);
    assert.is(out.values.length, cpus);
    for (const { cpu, value } of out.values) assert.is(hex(ours.subarray(cpu * 8, cpu * 8 + 4)), value.map((x) => x.slice(2)).join(''));
  } finally {
    rmSync(pin, { force: true });
  }
});

test.run();
