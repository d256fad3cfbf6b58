// examples/xdp_decap against hand-built expectations: each encapsulated frame comes out
// as exactly the inner frame behind the original Ethernet addresses, with the EtherType of
// the inner packet; frames for other hosts and malformed ones pass untouched; the counters
// say which path each took. (kernel-diff.test.ts shows the kernel agrees with all of it.)

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { applyUpdates } from '../../runtime/map-commands.js';
import { REAL, REAL6, ethernet, ipv4, ipv6, tcp } from '../../packets/corpus.js';
import { examplePath } from '../support/examples.js';

const path = examplePath('xdp_decap');
const machine = BpfMachine.create(loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(path)), path)).wasm, path));
applyUpdates(machine, ['decap_dst_v4=0a000002:01000000', 'decap_dst_v6=fc000000000000000000000000000002:01000000']);
const worker = machine.worker(0);

const client = [192, 168, 7, 7];
const vip = [10, 200, 200, 1];
const client6 = [0x20, 1, 0x0d, 0xb8, ...new Array(11).fill(0), 9];
const vip6 = [0xfc, 0, 2, 0, ...new Array(11).fill(0), 1];
const inner4 = ipv4({ src: client, dst: vip, proto: 6 }, tcp(40000, 80, 0x02, 10));
const inner6 = ipv6(client6, vip6, 6, tcp(40000, 80, 0x18, 10));
const outerSrc = [172, 16, 1, 2];
const outerSrc6 = [1, 0, ...new Array(13).fill(0), 5];

/** Counters as [packets, bytes] per decap_stats slot, summed over CPUs. */
function counters(): bigint[][] {
  const map = machine.maps.byNameOrThrow('decap_stats');
  return [0, 1, 2, 3].map((slot) => {
    // A per-CPU lookup returns every CPU's 16-byte value, one after the other (as bpftool).
    const all = map.lookupBytes(new Uint8Array(new Uint32Array([slot]).buffer))!;
    const view = new DataView(all.buffer, all.byteOffset, all.byteLength);
    const sums: [bigint, bigint] = [0n, 0n];
    for (let at = 0; at < all.length; at += 16) {
      sums[0] += view.getBigUint64(at, true);
      sums[1] += view.getBigUint64(at + 8, true);
    }
    return sums;
  });
}

test('IPIP, IPv6-in-IPv6 and IPv4-in-IPv6 to this host come out as the inner frame', () => {
  const cases: [string, Uint8Array, Uint8Array][] = [
    ['ipip', ethernet(0x0800, ipv4({ src: outerSrc, dst: REAL, proto: 4 }, inner4)), ethernet(0x0800, inner4)],
    ['ip6ip6', ethernet(0x86dd, ipv6(outerSrc6, REAL6, 41, inner6)), ethernet(0x86dd, inner6)],
    ['ip4ip6', ethernet(0x86dd, ipv6(outerSrc6, REAL6, 4, inner4)), ethernet(0x0800, inner4)],
  ];
  for (const [name, input, expected] of cases) {
    const r = worker.runXdp('xdp_decap', input);
    assert.is(r.actionName, 'XDP_PASS', name);
    assert.equal([...r.packet], [...expected], name);
  }
  const c = counters();
  assert.equal(c[0], [1n, BigInt(14 + 20 + inner4.length)]);
  assert.equal(c[1], [2n, BigInt(2 * (14 + 40) + inner6.length + inner4.length)]);
});

test('other hosts, other protocols and cut-short frames pass untouched', () => {
  const before = counters();
  const frames = [
    ethernet(0x0800, ipv4({ src: outerSrc, dst: [10, 0, 0, 3], proto: 4 }, inner4)),
    ethernet(0x0800, inner4),
    ethernet(0x86dd, ipv6(outerSrc6, [0xfc, 0, ...new Array(13).fill(0), 3], 41, inner6)),
    ethernet(0x0800, ipv4({ src: outerSrc, dst: REAL, proto: 4 }, inner4.slice(0, 10))),
    ethernet(0x0800, ipv4({ src: outerSrc, dst: REAL, proto: 4, options: [1, 1, 1, 0] }, inner4)),
  ];
  for (const frame of frames) {
    const r = worker.runXdp('xdp_decap', frame);
    assert.is(r.actionName, 'XDP_PASS');
    assert.equal([...r.packet], [...frame]);
  }
  const after = counters();
  assert.is(after[2]![0]! - before[2]![0]!, 3n, 'passed: two other hosts and a plain packet');
  assert.is(after[3]![0]! - before[3]![0]!, 2n, 'malformed: the cut-short inner header and the outer options');
});

test.run();
