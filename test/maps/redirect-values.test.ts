// The operator's side of second programs: `--update MAP=KEY:VALUE+PROGRAM` (and `map
// update`) name an xdp/devmap or xdp/cpumap program of the object by function or section;
// the value then holds its id, lookups report it, and a name that is no program, or a
// program of the wrong kind, is one clear line. Also: programs may not look a cpumap up
// (the kernel's verifier allows a cpumap only in bpf_redirect_map).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { UserError } from '../../core/errors.js';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { applyUpdates, mapCommand } from '../../runtime/map-commands.js';
import { compileBpf, scratchDir } from '../support/clang.js';
import { setDeviceExists } from '../../runtime/maps/redirect-value.js';

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'redirect', 'redirect_maps.c'));
const machine = (): BpfMachine =>
  BpfMachine.create(loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object));

/** The id a value reports for the program at `tableIndex`: its table index plus one. */
const idOf = (m: BpfMachine, name: string): number => m.manifest.programs.find((p) => p.name === name)!.tableIndex + 1;
const lookup = (m: BpfMachine, map: string, key: string): string => [...mapCommand(m, 'lookup', map, key)].join('');

test('VALUE+PROGRAM writes the program id, by function or by section name', () => {
  const m = machine();
  applyUpdates(m, ['cpu_map=00000000:40000000+stamp_cpu', 'tx_ports=01000000:05000000+xdp/devmap']);
  const id = (n: number): string => Buffer.from(new Uint32Array([n]).buffer).toString('hex');
  assert.is(lookup(m, 'cpu_map', '00000000'), `key 00000000 value 40000000${id(idOf(m, 'stamp_cpu'))}`);
  assert.is(lookup(m, 'tx_ports', '01000000'), `key 01000000 value 05000000${id(idOf(m, 'stamp_egress'))}`);
  assert.ok(idOf(m, 'stamp_cpu') > 0 && idOf(m, 'stamp_cpu') !== idOf(m, 'stamp_egress'));
  // Through `map update` too (the control socket's path); qsize 0 empties the slot.
  assert.equal([...mapCommand(m, 'update', 'cpu_map', '01000000', '00000000+stamp_cpu')], []);
  assert.throws(() => lookup(m, 'cpu_map', '01000000'), /no entry/);
});

test('a program that is not in the object, or of the wrong kind, is one line naming it', () => {
  const m = machine();
  const message = (fn: () => void): string => {
    try {
      fn();
    } catch (e) {
      assert.instance(e, UserError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };
  const missing = message(() => applyUpdates(m, ['cpu_map=00000000:40000000+nosuch']));
  assert.match(
    missing,
    /value names program 'nosuch', which is not in the object \(programs: redirect_by_command, stamp_egress, stamp_cpu\)/,
  );
  const wrong = message(() => applyUpdates(m, ['cpu_map=00000000:40000000+stamp_egress']));
  assert.match(wrong, /^map 'cpu_map': update: ENOMEM: the value's program must be one in an xdp\/cpumap section$/);
  const wrongDev = message(() => applyUpdates(m, ['tx_hash=05000000:01000000+redirect_by_command']));
  assert.match(wrongDev, /^map 'tx_hash': update: EINVAL: the value's program must be one in an xdp\/devmap section$/);
  for (const text of [missing, wrong, wrongDev]) assert.not.match(text, /\n/);
});

test('a devmap value naming no device is refused in one line, before its program is looked at', () => {
  const m = machine();
  setDeviceExists((ifindex) => ifindex === 1 || ifindex === 5);
  try {
    const refusal = (update: string): string => {
      try {
        applyUpdates(m, [update]);
      } catch (e) {
        assert.instance(e, UserError);
        return (e as Error).message;
      }
      return 'taken';
    };
    assert.is(refusal('tx_ports=02000000:05000000+stamp_egress'), 'taken');
    assert.is(refusal('tx_ports=02000000:0600000000000000'), "map 'tx_ports': update: EINVAL: no network device has ifindex 6 here");
    assert.is(refusal('tx_hash=02000000:07000000+stamp_cpu'), "map 'tx_hash': update: EINVAL: no network device has ifindex 7 here");
    assert.is(refusal('tx_ports=03000000:0000000000000000'), 'taken', 'ifindex 0 empties a devmap slot');
  } finally {
    setDeviceExists(undefined);
  }
});

// The kernel's own words for this program (6.18's verifier): "cannot pass map_type 16 into func bpf_map_lookup_elem#1".
test('a program may not look a cpumap up, as the kernel refuses it', () => {
  const source = join(scratchDir(), 'cpumap_lookup.c');
  writeFileSync(
    source,
    `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_CPUMAP); __uint(max_entries, 2); __type(key, __u32); __type(value, struct bpf_cpumap_val); } cpus SEC(".maps");
SEC("xdp") int peek(struct xdp_md *ctx) { __u32 k = 0; return bpf_map_lookup_elem(&cpus, &k) ? XDP_DROP : XDP_PASS; }
char LICENSE[] SEC("license") = "GPL";
`,
  );
  const o = compileBpf(source);
  assert.throws(
    () => compileObject(loadObject(new Uint8Array(readFileSync(o)), o)),
    /cannot pass map_type 16 into func bpf_map_lookup_elem#1/,
  );
});

test.run();
