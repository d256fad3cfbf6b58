// bpf_fib_lookup's logic (runtime/fib.ts) over tables given here, against values derived by
// hand from the kernel's bpf_ipv4_fib_lookup / bpf_ipv6_fib_lookup: every return code,
// which fields each path writes, and paths the namespace of test/kernel/fib-lookup cannot
// provoke (a too-short struct, an unknown family, an IPv6 next hop for an IPv4 route,
// lightweight tunnels, neighbour states).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AF_INET, AF_INET6, FIB_FLAG, FIB_RET, fibLookup, type RouteAnswer, type RouteTables } from '../../runtime/fib.js';
import type { RouteEntry } from '../../core/route-tables.js';

const MAC1 = [2, 0, 0, 0, 0, 1];
const NEIGH = [2, 0, 0, 0, 0, 0x99];
const links = new Map([
  [2, { name: 'eth0', mtu: 1500, address: new Uint8Array(MAC1) }],
  [3, { name: 'eth1', mtu: 9000, address: new Uint8Array([2, 0, 0, 0, 0, 2]) }],
]);

interface Asked {
  routes: string[];
  neighbours: string[];
}

function tables(route: (dst: string) => RouteAnswer, neighbourState = 0x80, asked: Asked = { routes: [], neighbours: [] }): RouteTables {
  return {
    route: (family, dst, q) => {
      const from = q.iif ? `iif=${q.iif}` : `oif=${q.oif ?? 0}`;
      asked.routes.push(`${family} ${[...dst].join('.')} ${from} mark=${q.mark ?? 0}${q.fibMatch ? '' : ' source'}`);
      return route([...dst].join('.'));
    },
    routes: () => [],
    rules: (family) => [
      { priority: 0, table: 255, action: 1, selectors: false },
      { priority: 32766, table: 254, action: 1, selectors: false },
      ...(family === AF_INET ? [{ priority: 32767, table: 253, action: 1, selectors: false }] : []),
    ],
    neighbour: (family, ifindex, address) => {
      asked.neighbours.push(`${family} ${ifindex} ${[...address].join('.')}`);
      return neighbourState ? { state: neighbourState, lladdr: new Uint8Array(NEIGH) } : undefined;
    },
    link: (ifindex) => links.get(ifindex),
    forwarding: (_family, device) => device !== 'eth1',
    ipv6Mtu: (device) => (device === 'eth0' ? 1000 : 9000),
  };
}

const unicast = (extra: Partial<RouteEntry> = {}): RouteAnswer => ({
  type: 1,
  table: 254,
  priority: 20,
  oif: 2,
  mtuLocked: false,
  ...extra,
});

function params(
  fields: { family?: number; ifindex?: number; totLen?: number; dst?: number[]; src?: number[]; mark?: number } = {},
): Uint8Array {
  const p = new Uint8Array(64);
  const v = new DataView(p.buffer);
  v.setUint8(0, fields.family ?? AF_INET);
  v.setUint16(6, fields.totLen ?? 0, true);
  v.setUint32(8, fields.ifindex ?? 2, true);
  p.set(fields.src ?? [10, 0, 0, 9], 16);
  p.set(fields.dst ?? [10, 9, 0, 1], 32);
  v.setUint32(48, 0xaabbccdd, true); // vlan fields (or tbid): cleared on success
  if (fields.mark !== undefined) v.setUint32(52, fields.mark, true);
  return p;
}

const u16 = (p: Uint8Array, at: number): number => new DataView(p.buffer).getUint16(at, true);
const u32 = (p: Uint8Array, at: number): number => new DataView(p.buffer).getUint32(at, true);

test('argument checks: size, flags, family, device, forwarding', () => {
  const t = tables(() => unicast());
  assert.is(fibLookup(t, params(), 63, 0), -22, 'plen below sizeof(struct bpf_fib_lookup)');
  assert.is(fibLookup(t, params(), 64, 64), -22, 'an unknown flag');
  assert.is(fibLookup(t, params({ family: 7 }), 64, 0), -97, 'neither AF_INET nor AF_INET6: -EAFNOSUPPORT');
  assert.is(fibLookup(t, params({ ifindex: 9 }), 64, 0), -19, 'no such device: -ENODEV');
  assert.is(fibLookup(t, params({ ifindex: 3 }), 64, 0), FIB_RET.FWD_DISABLED);
});

test('route errors and types map to return codes; nothing else is written', () => {
  const cases: [RouteAnswer, number][] = [
    [{ error: 'EINVAL' }, FIB_RET.BLACKHOLE],
    [{ error: 'EHOSTUNREACH' }, FIB_RET.UNREACHABLE],
    [{ error: 'EACCES' }, FIB_RET.PROHIBIT],
    [{ error: 'ENETUNREACH' }, FIB_RET.NOT_FWDED],
    [unicast({ type: 2 }), FIB_RET.NOT_FWDED], // RTN_LOCAL
    [unicast({ encap: true }), FIB_RET.UNSUPP_LWT],
  ];
  for (const [answer, rc] of cases) {
    const p = params();
    const before = p.slice();
    assert.is(
      fibLookup(
        tables(() => answer),
        p,
        64,
        0,
      ),
      rc,
      JSON.stringify(answer),
    );
    assert.equal(p, before, `${JSON.stringify(answer)}: struct untouched`);
  }
});

test('a hit: next hop, device, metric, MACs, MTU; VLAN fields cleared', () => {
  const asked = { routes: [], neighbours: [] };
  const p = params({ mark: 7 });
  const t = tables(() => unicast({ gateway: new Uint8Array([10, 0, 0, 254]), viaFamily: AF_INET }), 0x04, asked);
  assert.is(fibLookup(t, p, 64, FIB_FLAG.MARK), FIB_RET.SUCCESS, 'a STALE neighbour is valid');
  assert.equal(asked.routes, ['2 10.9.0.1 iif=2 mark=7'], 'the mark is asked with (not DIRECT), on the input path');
  assert.equal(asked.neighbours, ['2 2 10.0.0.254'], 'the gateway is looked up on the route device');
  assert.equal([...p.subarray(32, 36)], [10, 0, 0, 254], 'ipv4_dst = the gateway');
  assert.is(u32(p, 8), 2, 'ifindex');
  assert.is(u32(p, 12), 20, 'rt_metric');
  assert.is(u16(p, 6), 1500, 'mtu_result');
  assert.is(u32(p, 48), 0, 'h_vlan_proto and h_vlan_TCI');
  assert.equal([...p.subarray(52, 58)], MAC1, 'smac: the device');
  assert.equal([...p.subarray(58, 64)], NEIGH, 'dmac: the neighbour');
  const direct = { routes: [], neighbours: [] };
  fibLookup(
    tables(() => unicast(), 0x80, direct),
    params({ mark: 7 }),
    64,
    FIB_FLAG.DIRECT | FIB_FLAG.MARK | FIB_FLAG.OUTPUT,
  );
  assert.equal(direct.routes, ['2 10.9.0.1 oif=2 mark=0'], 'DIRECT ignores the mark; OUTPUT asks for the device');
});

test('neighbours: absent or not valid is NO_NEIGH; SKIP_NEIGH leaves the MACs', () => {
  assert.is(
    fibLookup(
      tables(() => unicast(), 0),
      params(),
      64,
      0,
    ),
    FIB_RET.NO_NEIGH,
    'absent',
  );
  assert.is(
    fibLookup(
      tables(() => unicast(), 0x20),
      params(),
      64,
      0,
    ),
    FIB_RET.NO_NEIGH,
    'NUD_FAILED',
  );
  assert.is(
    fibLookup(
      tables(() => unicast(), 0x01),
      params(),
      64,
      0,
    ),
    FIB_RET.NO_NEIGH,
    'NUD_INCOMPLETE',
  );
  const p = params({ mark: 0x01020304 });
  assert.is(
    fibLookup(
      tables(() => unicast(), 0),
      p,
      64,
      FIB_FLAG.SKIP_NEIGH,
    ),
    FIB_RET.SUCCESS,
  );
  assert.equal([...p.subarray(52, 56)], [4, 3, 2, 1], 'smac (the mark) as it was');
});

test('MTU: the device, a locked route MTU, FRAG_NEEDED with the MTU in mtu_result', () => {
  const p = params({ totLen: 1501 });
  assert.is(
    fibLookup(
      tables(() => unicast()),
      p,
      64,
      0,
    ),
    FIB_RET.FRAG_NEEDED,
  );
  assert.is(u16(p, 6), 1500);
  const locked = params({ totLen: 1301 });
  assert.is(
    fibLookup(
      tables(() => unicast({ mtu: 1300, mtuLocked: true })),
      locked,
      64,
      0,
    ),
    FIB_RET.FRAG_NEEDED,
  );
  assert.is(u16(locked, 6), 1300);
  const unlocked = params({ totLen: 1400 });
  assert.is(
    fibLookup(
      tables(() => unicast({ mtu: 1300, mtuLocked: false })),
      unlocked,
      64,
      0,
    ),
    FIB_RET.SUCCESS,
    'an unlocked route MTU does not count',
  );
});

test('IPv4 route with an IPv6 next hop: the struct becomes AF_INET6', () => {
  const gw = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const asked = { routes: [], neighbours: [] };
  const p = params();
  assert.is(
    fibLookup(
      tables(() => unicast({ gateway: new Uint8Array(gw), viaFamily: AF_INET6 }), 0x80, asked),
      p,
      64,
      0,
    ),
    0,
  );
  assert.is(p[0], AF_INET6, 'family');
  assert.equal([...p.subarray(32, 48)], gw, 'ipv6_dst');
  assert.equal(asked.neighbours, [`10 2 ${gw.join('.')}`], 'an IPv6 neighbour');
});

test('IPv6: never-forwarded addresses, mtu6 with its 1280 floor, NO_SRC_ADDR', () => {
  const v6 = (dst: number[], src = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]) => params({ family: AF_INET6, dst, src });
  const global = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const never: [string, number[]][] = [
    ['link-local', [0xfe, 0x80, ...new Array<number>(13).fill(0), 1]],
    ['multicast', [0xff, 2, ...new Array<number>(13).fill(0), 1]],
    ['loopback', [...new Array<number>(15).fill(0), 1]],
  ];
  for (const [what, dst] of never) {
    const asked = { routes: [], neighbours: [] };
    assert.is(
      fibLookup(
        tables(() => unicast(), 0x80, asked),
        v6(dst),
        64,
        0,
      ),
      FIB_RET.NOT_FWDED,
      what,
    );
    assert.is(
      fibLookup(
        tables(() => unicast(), 0x80, asked),
        v6(global, dst),
        64,
        0,
      ),
      FIB_RET.NOT_FWDED,
      `${what} source`,
    );
    assert.equal(asked.routes, [], `${what}: no table asked`);
  }
  const p = v6(global);
  assert.is(
    fibLookup(
      tables(() => unicast()),
      p,
      64,
      0,
    ),
    0,
  );
  assert.is(u16(p, 6), 1280, "eth0's mtu6 is 1000: the floor is 1280");
  assert.is(
    fibLookup(
      tables(() => unicast()),
      v6(global),
      64,
      FIB_FLAG.SRC,
    ),
    FIB_RET.NO_SRC_ADDR,
    'no source to choose',
  );
  const chosen = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x77];
  const q = v6(global);
  const answer = (source: boolean): RouteAnswer => unicast(source ? { prefsrc: new Uint8Array(chosen) } : {});
  const t = tables(() => unicast());
  t.route = (_f, _d, q) => answer(!q.fibMatch);
  assert.is(fibLookup(t, q, 64, FIB_FLAG.SRC), 0);
  assert.equal([...q.subarray(16, 32)], chosen, 'ipv6_src: the source the host chose');
});

test.run();
