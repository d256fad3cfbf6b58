// The control socket in process (no network): dumps come in bounded pages that together
// are every entry the test wrote, once each; every request field is checked for its type
// and an error names the field, on a connection that stays usable; a map-in-map slot
// refuses an inner map unlike its template; the socket is 0600 from the moment it exists.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, mkdtempSync, rmSync, lstatSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { dumpInstance, queryInstance, startControlServer } from '../../datapath/control.js';
import { MAX_REQUEST_CHARS } from '../../datapath/control-protocol.js';
import { compileBpf } from '../support/clang.js';
import { packageRoot } from '../../core/package-root.js';

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', 'control_maps.c'));
const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: number): Uint8Array => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);

const dir = mkdtempSync(join(tmpdir(), 'bpf2wasm-control-'));
const machine = BpfMachine.create(loaded);
const path = join(dir, 'control.sock');
const server = await startControlServer(machine, path);

/** The process's umask, read by setting it (the bare getter is deprecated). */
function readUmask(): number {
  const mask = process.umask(0o077);
  process.umask(mask);
  return mask;
}

/** Sends raw lines on one connection; the reply lines, parsed. */
function raw(lines: string[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    const replies: unknown[] = [];
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        replies.push(JSON.parse(buffer.slice(0, newline)));
        buffer = buffer.slice(newline + 1);
      }
      if (replies.length === lines.length) {
        socket.destroy();
        resolve(replies);
      }
    });
    socket.on('close', () => resolve(replies));
    socket.on('error', reject);
    socket.write(lines.map((l) => `${l}\n`).join(''));
  });
}

test('a dump comes in pages that together are every entry, once', async () => {
  const pages = machine.maps.byNameOrThrow('pages');
  const flows = machine.maps.byNameOrThrow('flows');
  const expectedArray = new Map<string, string>();
  for (let i = 0; i < pages.maxEntries; i++) {
    const value = i % 3 === 0 ? u32(i * 7 + 1) : u32(0);
    if (i % 3 === 0) pages.updateBytes(u32(i), value);
    expectedArray.set(hex(u32(i)), hex(value));
  }
  const expectedHash = new Map<string, string>();
  for (let i = 0; i < 1000; i++) {
    flows.updateBytes(u32((i * 2654435761) >>> 0), u64(i));
    expectedHash.set(hex(u32((i * 2654435761) >>> 0)), hex(u64(i)));
  }
  for (const [map, expected] of [
    ['pages', expectedArray],
    ['flows', expectedHash],
  ] as const) {
    const seen = new Map<string, string>();
    const sizes: number[] = [];
    await dumpInstance(
      path,
      map,
      (lines) => {
        sizes.push(lines.length);
        for (const line of lines) {
          const [, key, value] = /^key ([0-9a-f]+) value ([0-9a-f]+)$/.exec(line)!;
          assert.not.ok(seen.has(key!), `${map}: key ${key} twice`);
          seen.set(key!, value!);
        }
      },
      333,
    );
    assert.equal(seen, expected, map);
    assert.ok(
      sizes.every((n) => n <= 333),
      `${map}: pages of at most the limit (${Math.max(...sizes)})`,
    );
    assert.is(sizes.length, Math.ceil(expected.size / 333), `${map}: pages`);
  }
  // The array in index order, as get_next_key walks it.
  const order: number[] = [];
  await dumpInstance(path, 'pages', (lines) => void order.push(...lines.map((l) => Buffer.from(l.slice(4, 12), 'hex').readUInt32LE())));
  assert.ok(
    order.every((k, i) => k === i),
    'array keys in order',
  );
});

test('every field is checked for its type; the error names it; the connection stays usable', async () => {
  const replies = await raw([
    '{"op":"lookup","map":"flows","key":5}',
    '{"op":"lookup","map":["flows"],"key":"00000000"}',
    '{"op":7,"map":"flows"}',
    '{"op":"update","map":"pages","key":"00000000","value":{"x":1}}',
    '{"op":"dump","map":"pages","cursor":12}',
    '{"op":"dump","map":"pages","limit":"10"}',
    '{"op":"dump","map":"pages","limit":0}',
    '{"op":"lookup","map":"pages","key":"00000000","limit":3}',
    '{"op":"dump","map":"pages","extra":true}',
    '{"op":"frobnicate","map":"pages"}',
    '{"map":"pages"}',
    '[1,2]',
    'null',
    'not json',
    '{"op":"lookup","map":"pages","key":"zz"}',
    '{"op":"lookup","map":"pages","key":"00000000"}',
  ]);
  const errors = replies.map((r) => (r as { error?: string }).error);
  assert.equal(errors.slice(0, 15), [
    "malformed request: field 'key' must be a string, not number",
    "malformed request: field 'map' must be a string, not an array",
    "malformed request: field 'op' must be a string, not number",
    "malformed request: field 'value' must be a string, not object",
    "malformed request: field 'cursor' must be a string, not number",
    "malformed request: field 'limit' must be an integer 1..4096",
    "malformed request: field 'limit' must be an integer 1..4096",
    "malformed request: fields 'cursor' and 'limit' belong to dump, not lookup",
    "malformed request: unknown field 'extra'",
    "malformed request: field 'op' is 'frobnicate', not one of dump, lookup, update, delete",
    "malformed request: field 'op' is missing",
    'malformed request: an array, not a JSON object',
    'malformed request: null, not a JSON object',
    'malformed request: not JSON',
    "key 'zz' is not hex bytes (e.g. 0a000001)",
  ]);
  assert.equal(replies[15], { lines: [`key 00000000 value ${hex(u32(1))}`] }, 'the same connection still answers');
});

test('a request longer than the limit is refused and the connection closed', async () => {
  const replies = await raw([`{"op":"lookup","map":"pages","key":"${'0'.repeat(MAX_REQUEST_CHARS)}"}`]);
  assert.equal(replies, [{ error: `malformed request: longer than ${MAX_REQUEST_CHARS} characters` }]);
});

test('a map-in-map slot refuses an inner map unlike its template', async () => {
  const handle = (name: string): string => hex(u32(machine.maps.byNameOrThrow(name).handle));
  try {
    await queryInstance(path, { op: 'update', map: 'lru_mapping', key: '00000000', value: handle('cpu_counters') });
    assert.unreachable('a per-CPU array went into lru_mapping');
  } catch (e) {
    assert.is(
      (e as Error).message,
      `${path}: map 'lru_mapping': update: EINVAL: the inner map does not match the template: type percpu_array, not lru_hash; key size 4, not 40`,
    );
  }
  assert.equal(await queryInstance(path, { op: 'update', map: 'lru_mapping', key: '00000000', value: handle('fallback_lru') }), []);
  assert.equal(await queryInstance(path, { op: 'lookup', map: 'lru_mapping', key: '00000000' }), [
    `key 00000000 value ${handle('fallback_lru')}`,
  ]);
});

test('the socket is 0600 from the moment it exists', async () => {
  // A thread stats the path as fast as it can while the server starts: the first mode it
  // sees is the socket's mode at bind. (With a chmod after listen() it catches 0755.)
  const watched = join(dir, 'watched.sock');
  const umask = readUmask();
  const modes = new Set<number>();
  for (let round = 0; round < 20; round++) {
    const watcher = new Worker(
      `
      const { lstatSync } = require('node:fs');
      const { workerData, parentPort } = require('node:worker_threads');
      const deadline = Date.now() + 5000;
      for (;;) {
        try { parentPort.postMessage(lstatSync(workerData.path).mode & 0o777); break; } catch {}
        if (Date.now() > deadline) { parentPort.postMessage(-1); break; }
      }`,
      { eval: true, workerData: { path: watched } },
    );
    const first = new Promise<number>((resolve) => watcher.once('message', resolve));
    await new Promise((r) => setTimeout(r, 20)); // the watcher is spinning by now
    const other = await startControlServer(machine, watched);
    modes.add(await first);
    await other.close();
    await watcher.terminate();
  }
  assert.equal([...modes], [0o600], `first modes seen: ${[...modes].map((m) => m.toString(8))}`);
  assert.is(lstatSync(path).mode & 0o777, 0o600);
  assert.is(readUmask(), umask, "the process's umask is back");
});

test.after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test.run();
