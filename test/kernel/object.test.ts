// The kernel oracle itself (runtime/kernel.ts, through the native addon) against facts:
// what an object's load pins, how hash, array, per-CPU and map-in-map maps read and write
// (absent keys included), a prog_array slot, XDP attached inside a network namespace,
// a ring buffer drained, libbpf's refusal of a legacy object, and that close() leaves
// nothing in /sys/fs/bpf. Every other kernel test trusts these answers.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { nativeAddon } from '../../native/addon.js';
import { compileBpf } from '../support/clang.js';
import { examplePath } from '../support/examples.js';
import { skip } from '../support/skip.js';
import { packageRoot } from '../../core/package-root.js';
import { compileObject } from '../../compiler/compile.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { MapError } from '../../runtime/errors.js';

const root = packageRoot;
const unavailable = kernelMissing();
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: number): Uint8Array => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);
const bytes = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
/** struct flow_key of maps_zoo: src, dst, sport, dport, proto, pad[3]. */
const flowKey = (n: number): Uint8Array => bytes(u32(n), u32(0x0a000001), new Uint8Array([0, 80, 1, 187, 6, 0, 0, 0]));
// This process's pins only: other test runs on the machine pin and unpin concurrently.
const ours = (): string[] =>
  readdirSync('/sys/fs/bpf')
    .filter((f) => f.startsWith(`bpf2wasm-${process.pid}-`))
    .sort();

/** Number of possible CPUs, which sizes per-CPU values (/sys/devices/system/cpu/possible). */
function possibleCpus(): number {
  return readFileSync('/sys/devices/system/cpu/possible', 'utf8')
    .trim()
    .split(',')
    .map((r) => r.split('-').map(Number))
    .reduce((n, [a, b]) => n + (b ?? a!) - a! + 1, 0);
}

/** The kernel's id of a pinned map or program, asked without KernelObject. */
function idOf(pin: string, kind: 'map' | 'program'): number {
  const addon = nativeAddon();
  const fd = addon.openPinned(pin);
  try {
    return kind === 'map' ? addon.mapInfo(fd).id : addon.programInfo(fd).id;
  } finally {
    addon.closeFd(fd);
  }
}

function withZoo(use: (k: KernelObject) => void): void {
  const k = KernelObject.load(examplePath('maps_zoo'));
  try {
    use(k);
  } finally {
    k.close();
  }
}

test('load pins every program by name and every map under maps/; close() removes them', () => {
  if (unavailable) return void skip('KernelObject load and close', unavailable);
  const before = ours();
  const object = examplePath('maps_zoo');
  const k = KernelObject.load(object);
  const programs = loadObject(new Uint8Array(readFileSync(object)), object)
    .programs.map((p) => p.name)
    .sort();
  assert.equal(
    readdirSync(k.pinDir)
      .filter((f) => f !== 'maps')
      .sort(),
    programs,
  );
  // Global data maps carry libbpf's object prefix, their dots turned to underscores.
  for (const map of ['flows', 'backends', 'cpu_stats', 'outer_array', 'inner_a', 'maps_zoo_rodata']) {
    assert.ok(existsSync(`${k.pinDir}/maps/${map}`), `map ${map} pinned`);
  }
  assert.equal(k.info('flows'), { type: 'hash', bytes_key: 16, bytes_value: 4, max_entries: 512, flags: 0 });
  assert.equal(k.info('outer_hash'), { type: 'hash_of_maps', bytes_key: 4, bytes_value: 4, max_entries: 32, flags: 1 });
  assert.is(k.info('no_such_map'), undefined);
  k.close();
  assert.not.ok(existsSync(k.pinDir), 'pin directory removed');
  assert.equal(ours(), before, 'no bpf2wasm-* pins left');
});

test('hash: absent keys, flags, delete', () => {
  if (unavailable) return void skip('KernelObject hash map', unavailable);
  withZoo((k) => {
    assert.is(k.lookup('flows', flowKey(1)), undefined);
    k.update('flows', flowKey(1), u32(7));
    assert.equal(k.lookup('flows', flowKey(1)), [u32(7)]);
    assert.throws(() => k.update('flows', flowKey(1), u32(8), 'noexist'), /kernel: update of flows: .*File exists/);
    assert.throws(() => k.update('flows', flowKey(2), u32(8), 'exist'), /kernel: update of flows: .*No such file/);
    assert.throws(() => k.update('flows', u32(1), u32(8)), /kernel: update of flows: the key has 4 bytes, the map takes 16/);
    k.updateMany(
      'flows',
      Array.from({ length: 100 }, (_, i): [Uint8Array, Uint8Array] => [flowKey(100 + i), u32(i)]),
    );
    assert.is(k.dump('flows').length, 101);
    assert.equal(k.lookup('flows', flowKey(150)), [u32(50)]);
    assert.ok(k.delete('flows', flowKey(1)));
    assert.not.ok(k.delete('flows', flowKey(1)), 'deleting an absent key');
    assert.is(k.lookup('flows', flowKey(1)), undefined);
  });
});

test('array and per-CPU array: every slot exists; one value is written to every CPU', () => {
  if (unavailable) return void skip('KernelObject arrays', unavailable);
  withZoo((k) => {
    const backend = bytes(u32(0x0a000002), new Uint8Array([0x1f, 0x90, 0, 0]));
    assert.equal(k.lookup('backends', u32(3)), [new Uint8Array(8)]);
    k.update('backends', u32(3), backend);
    const dump = k.dump('backends');
    assert.is(dump.length, 16);
    assert.equal(dump[3], { key: u32(3), values: [backend] });
    assert.not.ok(k.delete('backends', u32(3)), 'arrays cannot delete');
    assert.is(k.lookup('backends', u32(16)), undefined, 'beyond max_entries');

    const counters = bytes(u64(5), u64(1500));
    k.update('cpu_stats', u32(1), counters);
    const values = k.lookup('cpu_stats', u32(1))!;
    assert.is(values.length, possibleCpus());
    for (const v of values) assert.equal(v, counters);
    k.updateMany('cpu_stats', [[u32(2), counters]]);
    assert.equal(k.dump('cpu_stats')[2], { key: u32(2), values: values });
  });
});

test('map-in-map: slots read back as the inner map id; absent slots are undefined', () => {
  if (unavailable) return void skip('KernelObject map-in-map', unavailable);
  withZoo((k) => {
    const innerA = idOf(`${k.pinDir}/maps/inner_a`, 'map');
    assert.equal(k.lookup('outer_array', u32(1)), [u32(innerA)], 'the object places inner_a in slot 1');
    assert.is(k.lookup('outer_array', u32(0)), undefined);
    const pin = k.createMap('b2w_inner', 'array', 4, 8, 8, 0);
    assert.equal(k.info(pin), { type: 'array', bytes_key: 4, bytes_value: 8, max_entries: 8, flags: 0 });
    k.update(pin, u32(2), u64(42));
    k.setInnerMap('outer_array', u32(2), pin);
    const innerId = idOf(`${k.pinDir}/maps/${pin}`, 'map');
    assert.equal(k.dump('outer_array'), [
      { key: u32(1), values: [u32(innerA)] },
      { key: u32(2), values: [u32(innerId)] },
    ]);

    assert.is(k.lookup('outer_hash', u32(9)), undefined);
    const set = k.createMap('b2w_set', 'hash', 4, 1, 64, 1);
    k.setInnerMap('outer_hash', u32(9), set);
    assert.equal(k.lookup('outer_hash', u32(9)), [u32(idOf(`${k.pinDir}/maps/${set}`, 'map'))]);
    assert.ok(k.delete('outer_hash', u32(9)));
    assert.not.ok(k.delete('outer_hash', u32(9)));
    assert.is(k.lookup('outer_hash', u32(9)), undefined);
    assert.throws(() => k.setInnerMap('outer_hash', u32(1), 'no_such_map'), /kernel: storing map no_such_map: .*No such file/);
  });
});

test('prog_array: a slot holds the program (read back as its id); empty slots are not entries', () => {
  if (unavailable) return void skip('KernelObject prog_array', unavailable);
  const k = KernelObject.load(compileBpf(join(root, 'test', 'fixtures', 'kernel', 'calls_loops.c')));
  try {
    assert.equal(k.dump('jump'), []);
    assert.equal(k.dump('ports'), [], 'an empty devmap');
    k.setProgram('jump', 0, 'tail_target');
    assert.equal(k.dump('jump'), [{ key: u32(0), values: [u32(idOf(`${k.pinDir}/tail_target`, 'program'))] }]);
    assert.ok(k.delete('jump', u32(0)));
    assert.not.ok(k.delete('jump', u32(0)));
    assert.throws(() => k.setProgram('jump', 1, 'nope'), /kernel: storing program nope: .*No such file/);
  } finally {
    k.close();
  }
});

test('attachXdp inside a network namespace; the calling thread stays in its own', () => {
  if (unavailable) return void skip('KernelObject attachXdp', unavailable);
  if (spawnSync('ip', ['-V']).status !== 0) return void skip('KernelObject attachXdp', 'host-tool', 'iproute2 (ip)');
  const ns = `b2w-kobj-${process.pid}`;
  const ip = (...args: string[]): string => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const home = readlinkSync('/proc/thread-self/ns/net');
  ip('netns', 'add', ns);
  const k = KernelObject.load(examplePath('xdp_pass'));
  try {
    const detach = k.attachXdp('xdp_pass', 'lo', 'generic', ns);
    assert.is(readlinkSync('/proc/thread-self/ns/net'), home);
    assert.match(ip('-n', ns, 'link', 'show', 'lo'), /xdpgeneric/);
    assert.throws(() => k.attachXdp('xdp_pass', 'lo', 'generic', ns), /kernel: attaching xdp_pass to lo: .*busy/);
    assert.throws(() => k.attachXdp('xdp_pass', 'lo', 'generic', `${ns}-absent`), /kernel: attaching xdp_pass to lo: network namespace/);
    assert.throws(
      () => k.attachXdp('xdp_pass', 'b2w-no-such-if', 'generic', ns),
      /kernel: attaching xdp_pass to b2w-no-such-if: interface/,
    );
    assert.is(readlinkSync('/proc/thread-self/ns/net'), home);
    assert.type(k.runCount('xdp_pass'), 'number');
    detach();
    assert.not.match(ip('-n', ns, 'link', 'show', 'lo'), /xdp/);
  } finally {
    k.close();
    ip('netns', 'del', ns);
  }
  assert.is(readlinkSync('/proc/thread-self/ns/net'), home);
});

test('drainRingbuf: submitted records in order, discarded ones skipped; draining frees the ring', () => {
  if (unavailable) return void skip('KernelObject drainRingbuf', unavailable);
  // ringbuf_printk outputs (dst MAC, src MAC, ethertype, u16 frame length) per frame, then
  // the same through reserve with length 0xffff: submitted for an even last dst byte,
  // discarded for an odd one. results[1] counts its failed outputs.
  const frame = (last: number, length: number): Uint8Array => {
    const f = new Uint8Array(length);
    f.set([2, 0, 0, 0, 0x10, last, 2, 0, 0, 0, 0x20, 0x30, 0x08, 0x00]);
    return f;
  };
  const record = (f: Uint8Array, length: number): Uint8Array => bytes(f.subarray(0, 14), new Uint8Array([length & 0xff, length >> 8]));
  const k = KernelObject.load(compileBpf(join(root, 'test', 'fixtures', 'kernel', 'ringbuf_printk.c')));
  try {
    const even = frame(0x44, 60);
    const odd = frame(0x45, 300);
    for (const f of [even, odd]) assert.is(k.testRun('ringbuf_printk', f).retval, 2);
    assert.equal(k.drainRingbuf('events'), [record(even, 60), record(even, 0xffff), record(odd, 300)]);
    assert.equal(k.drainRingbuf('events'), [], 'a drain consumes what it returns');
    assert.equal(k.drainRingbuf('exact'), [], 'a ring no program wrote');

    // 24 bytes a record in the ring (16 + the 8-byte header), two a frame; the producer may
    // run at most 4095 bytes ahead: 170 records fit, so the 86th frame's output fails.
    const failed = (): number => Number(new DataView(k.lookup('results', u32(1))![0]!.buffer).getBigInt64(0, true));
    for (let i = 0; i < 86; i++) k.testRun('ringbuf_printk', even);
    assert.is(failed(), 1, 'the ring filled up');
    assert.is(k.drainRingbuf('events').length, 170);
    k.testRun('ringbuf_printk', even);
    assert.is(failed(), 1, 'room again after the drain');
    assert.equal(k.drainRingbuf('events'), [record(even, 60), record(even, 0xffff)]);

    assert.throws(() => k.drainRingbuf('results'), /kernel: draining results: ring_buffer__new: Invalid argument/, 'not a ring buffer');
    assert.throws(() => k.drainRingbuf('no_such_map'), /kernel: draining no_such_map: .*No such file/);
  } finally {
    k.close();
  }
});

test("libbpf's refusal of a legacy object is a UserError naming the cause, and leaves no pins", () => {
  if (unavailable) return void skip('KernelObject load failure', unavailable);
  const before = ours();
  assert.throws(
    () => KernelObject.load(examplePath('legacy_maps')),
    (e: Error) => e.name === 'UserError' && /kernel: opening .*legacy_maps\.o: .*legacy map definitions/.test(e.message),
  );
  assert.equal(ours(), before);
});

test('.rodata is frozen: updates and deletes are EPERM in the kernel (libbpf froze it) and in bpf2wasm (the compile did)', () => {
  const object = examplePath('maps_zoo');
  const machine = BpfMachine.create(loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object));
  const rodata = machine.maps.byNameOrThrow('.rodata');
  const zero = new Uint8Array(4);
  const before = rodata.lookupBytes(zero)!;
  assert.throws(
    () => rodata.updateBytes(zero, new Uint8Array(before.length)),
    (e: Error) => e instanceof MapError && e.errno === 'EPERM',
  );
  assert.throws(
    () => rodata.deleteBytes(zero),
    (e: Error) => e instanceof MapError && e.errno === 'EPERM',
  );
  assert.equal(rodata.lookupBytes(zero), before, 'unchanged');
  if (unavailable) return void skip("the kernel's answer on its frozen .rodata", unavailable);
  withZoo((k) => {
    assert.match(k.tryUpdate('maps_zoo_rodata', zero, new Uint8Array(before.length)) ?? 'accepted', /Operation not permitted|EPERM/);
  });
});

test.run();
