// BPF_FIB_LOOKUP_DIRECT's table lookup and the multipath next hop (runtime/fib-table.ts),
// against answers derived by hand from the kernel's fib_table_lookup and fib_select_path;
// and what test/kernel/fib-lookup cannot build here: a VRF device's table.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseHop, tableLookup } from '../../runtime/fib-table.js';
import { FIB_FLAG, FIB_RET, fibLookup } from '../../runtime/fib.js';
import type { RouteEntry, RouteTables } from '../../core/route-tables.js';

const route = (dst: number[], dstLen: number, extra: Partial<RouteEntry> = {}): RouteEntry => ({
  type: 1,
  table: 254,
  priority: 0,
  oif: 2,
  mtuLocked: false,
  dst: new Uint8Array(dst),
  dstLen,
  ...extra,
});
const ip = (...b: number[]): Uint8Array => new Uint8Array(b);
const oifOf = (a: ReturnType<typeof tableLookup>): number | string => ('error' in a ? a.error : a.oif);

test('the longest covering prefix; there TOS routes for their TOS, then the lowest priority', () => {
  const routes = [
    route([0, 0, 0, 0], 0, { oif: 9 }),
    route([10, 1, 0, 0], 16, { oif: 3, priority: 5 }),
    route([10, 1, 0, 0], 16, { oif: 4, priority: 1 }),
    route([10, 1, 0, 0], 16, { oif: 5, priority: 9, tos: 0x10 }),
    route([10, 1, 2, 0], 24, { oif: 6, type: 7 }),
  ];
  assert.is(oifOf(tableLookup(routes, ip(10, 1, 9, 9), 0, 0)), 4, 'priority 1 beats 5');
  assert.is(oifOf(tableLookup(routes, ip(10, 1, 9, 9), 0, 0x10)), 5, 'the TOS route for its TOS, whatever its priority');
  assert.is(oifOf(tableLookup(routes, ip(10, 1, 9, 9), 0, 0x11)), 5, 'the ECN bits do not count');
  assert.is(oifOf(tableLookup(routes, ip(10, 1, 2, 9), 0, 0)), 'EHOSTUNREACH', 'an unreachable /24 answers at once');
  assert.is(oifOf(tableLookup(routes, ip(192, 0, 2, 1), 0, 0)), 9, 'the default route');
  assert.is(oifOf(tableLookup(routes.slice(1), ip(192, 0, 2, 1), 0, 0)), 'ENETUNREACH', 'nothing covers it');
});

test('dead next hops and, with an OUTPUT device, other devices fall through to shorter prefixes', () => {
  const routes = [
    route([10, 1, 0, 0], 16, { oif: 3, flags: 1 }),
    route([10, 0, 0, 0], 8, { oif: 4 }),
    route([10, 1, 0, 0], 16, { oif: 7, priority: 3 }),
  ];
  assert.is(oifOf(tableLookup(routes, ip(10, 1, 1, 1), 0, 0)), 7, 'the dead route is skipped');
  assert.is(oifOf(tableLookup(routes, ip(10, 1, 1, 1), 4, 0)), 4, 'OUTPUT through 4: the /8');
});

test('multipath: OUTPUT takes the first live hop through the device, else the kernel route for the flow', () => {
  const hops = [
    { oif: 3, flags: 0, weight: 1, gateway: ip(10, 0, 0, 3) },
    { oif: 4, flags: 1, weight: 1, gateway: ip(10, 0, 0, 4) },
    { oif: 4, flags: 0, weight: 1, gateway: ip(10, 0, 0, 5) },
  ];
  const ecmp = route([10, 9, 0, 0], 16, { multipath: true, nexthops: hops });
  const never = () => assert.unreachable('OUTPUT does not hash');
  const out = chooseHop(ecmp, 4, never as never);
  assert.is(out.oif, 4);
  assert.equal([...out.gateway!], [10, 0, 0, 5], 'the dead hop through 4 is passed over');
  const hashed = chooseHop(ecmp, 0, () => ({ ...route([], 0), oif: 4, gateway: ip(10, 0, 0, 5) }));
  assert.equal([hashed.oif, [...hashed.gateway!]], [4, [10, 0, 0, 5]]);
  assert.is(hashed.nexthops, undefined, 'the route leaves by one hop');
  const refused = chooseHop(ecmp, 0, () => ({ error: 'EXDEV' }));
  assert.is(refused.oif, 3, 'no answer for the flow: the first live hop');
});

test('DIRECT: the VRF table of the ingress device; TBID: the table given, and the field cleared', () => {
  const asked: string[] = [];
  const links = new Map([
    [2, { name: 'eth0', mtu: 1500, master: 10 }],
    [10, { name: 'blue', mtu: 65536, vrfTable: 200 }],
  ]);
  const tables: RouteTables = {
    route: () => ({ error: 'ENETUNREACH' }),
    routes: (_family, table) => {
      asked.push(`table ${table}`);
      return [route([10, 9, 0, 0], 16, { table, oif: 2 })];
    },
    rules: () => [],
    neighbour: () => ({ state: 0x80, lladdr: ip(2, 0, 0, 0, 0, 9) }),
    link: (ifindex) => links.get(ifindex),
    forwarding: () => true,
    ipv6Mtu: () => 1500,
  };
  const params = (tbid: number): Uint8Array => {
    const p = new Uint8Array(64);
    const v = new DataView(p.buffer);
    p[0] = 2;
    v.setUint32(8, 2, true);
    p.set([10, 9, 1, 1], 32);
    v.setUint32(48, tbid, true);
    return p;
  };
  assert.is(fibLookup(tables, params(0), 64, FIB_FLAG.DIRECT), FIB_RET.SUCCESS);
  const p = params(77);
  assert.is(fibLookup(tables, p, 64, FIB_FLAG.DIRECT | FIB_FLAG.TBID), FIB_RET.SUCCESS);
  assert.equal(asked, ['table 200', 'table 77']);
  const failed = params(78);
  tables.routes = () => [];
  assert.is(fibLookup(tables, failed, 64, FIB_FLAG.DIRECT | FIB_FLAG.TBID), FIB_RET.NOT_FWDED);
  assert.is(new DataView(failed.buffer).getUint32(48, true), 0, 'tbid is cleared before the lookup, even when it fails');
});

test.run();
