// katran's gRPC API for real: the server on loopback over the control plane, a plain
// @grpc/grpc-js client built from the same .proto. Replies, field encodings and status
// codes as KATRAN.md §6 describes katran's server.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as grpc from '@grpc/grpc-js';
import { loadKatranProto, startKatranGrpcServer } from '../../katran/grpc/server.js';
import { KatranLb } from '../../katran/control-plane.js';
import { MemoryMaps } from '../../katran/maps/memory-maps.js';

type Callback = (err: grpc.ServiceError | null, reply: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
type Client = grpc.Client & Record<string, (req: unknown, cb: Callback) => void>;

const maps = new MemoryMaps(2);
const lb = new KatranLb(maps, { defaultMac: '00:00:00:00:00:01' });
lb.init();
const server = await startKatranGrpcServer(lb, '127.0.0.1:0');
const pkg = (loadKatranProto().lb as grpc.GrpcObject).katran as grpc.GrpcObject;
const Service = pkg.KatranService as grpc.ServiceClientConstructor;
const client = new Service(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as Client;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function call(method: string, request: unknown): Promise<any> {
  const rpc = client[method];
  if (!rpc) return Promise.reject(new Error(`the KatranService client has no method ${method}`));
  return new Promise((resolve, reject) => rpc.call(client, request, (err, reply) => (err ? reject(err) : resolve(reply))));
}
async function status(method: string, request: unknown): Promise<number> {
  try {
    await call(method, request);
    return grpc.status.OK;
  } catch (e) {
    return (e as grpc.ServiceError).code;
  }
}

const vip = { address: '10.200.200.1', port: 80, protocol: 6 };

test('add a VIP and reals, read them back', async () => {
  assert.equal(await call('addVip', { vip, flags: 1, setFlag: false }), { success: true });
  assert.equal(await call('addRealForVip', { vip, real: { address: '10.0.0.2', weight: 1, flags: 0 } }), { success: true });
  assert.equal(await call('modifyRealsForVip', { action: 0, vip, real: { reals: [{ address: '10.0.0.3', weight: 2, flags: 0 }] } }), {
    success: true,
  });
  const reals = (await call('getRealsForVip', vip)).reals
    .map((r: { address: string; weight: number }) => `${r.address}/${r.weight}`)
    .sort();
  assert.equal(reals, ['10.0.0.2/1', '10.0.0.3/2']);
  assert.equal((await call('getAllVips', {})).vips, [vip]);
  assert.is((await call('getVipFlags', vip)).flags, '1');
  // The control plane wrote the maps: vip_map holds the VIP, the ring is filled.
  assert.is(maps.entries('vip_map').length, 1);
  assert.ok(lb.getRingForVip({ address: vip.address, port: 80, proto: 6 })!.every((r) => r === 1 || r === 2));
});

test('MAC and stats', async () => {
  assert.equal(await call('changeMac', { mac: '0A:0B:0C:0D:0E:0F' }), { success: true });
  assert.is((await call('getMac', {})).mac, '0a:0b:0c:0d:0e:0f');
  const before = await call('getLruStats', {});
  assert.equal(before, { v1: '0', v2: '0' });
  assert.equal(await call('getStatsForVip', { address: '10.9.9.9', port: 1, protocol: 6 }), { v1: '0', v2: '0' });
});

test('status codes as katran gives them', async () => {
  assert.is(await status('getRealFlags', { address: '10.0.0.2' }), grpc.status.UNIMPLEMENTED);
  // A malformed request is INVALID_ARGUMENT (katran would say CANCELLED; grpc-server.ts says why).
  assert.is(await status('addVip', { vip: { address: 'not-an-ip', port: 80, protocol: 6 }, flags: 0 }), grpc.status.INVALID_ARGUMENT);
  assert.is(await status('addVip', { vip: { address: '10.0.0.1', port: 70000, protocol: 6 }, flags: 0 }), grpc.status.INVALID_ARGUMENT);
  assert.is(await status('addVip', { vip, flags: 0 }), grpc.status.CANCELLED, 'duplicate VIP');
  assert.is(await status('getRealsForVip', { address: '10.1.1.1', port: 1, protocol: 6 }), grpc.status.CANCELLED);
  assert.is(await status('addHealthcheckerDst', { somark: 1, address: '10.0.0.1' }), grpc.status.CANCELLED);
  assert.is((await call('getVipFlags', { address: '10.1.1.1', port: 1, protocol: 6 })).flags, ((1n << 64n) - 1n).toString());
  const vipsBefore = maps.entries('vip_map').length;
  assert.is(
    await status('addRealForVip', { vip: { address: '10.1.1.1', port: 1, protocol: 6 }, real: { address: '10.0.0.9', weight: 1 } }),
    grpc.status.CANCELLED,
  );
  assert.is(maps.entries('vip_map').length, vipsBefore, 'nothing written');
});

/** A call with a deadline: its status, message and how long it took. */
function timed(method: string, request: unknown, deadlineMs = 5000): Promise<{ code: number; details: string; ms: number }> {
  const rpc = client[method] as unknown as (req: unknown, options: grpc.CallOptions, cb: Callback) => void;
  const start = Date.now();
  return new Promise((resolve) =>
    rpc.call(client, request, { deadline: Date.now() + deadlineMs }, (err) =>
      resolve({ code: err?.code ?? grpc.status.OK, details: err?.details ?? '', ms: Date.now() - start }),
    ),
  );
}

test('an oversized address: INVALID_ARGUMENT at once, a short message, the channel still works', async () => {
  const huge = '1'.repeat(120_000);
  for (const [method, request] of [
    ['addVip', { vip: { address: huge, port: 80, protocol: 6 }, flags: 0 }],
    ['addRealForVip', { vip, real: { address: huge, weight: 1, flags: 0 } }],
    ['changeMac', { mac: huge }],
  ] as const) {
    const r = await timed(method, request);
    assert.is(r.code, grpc.status.INVALID_ARGUMENT, `${method}: ${r.details.slice(0, 200)}`);
    assert.ok(r.ms < 1000, `${method} answered in ${r.ms} ms`);
    assert.ok(r.details.length < 200, `${method}: a short message (${r.details.length} characters)`);
    assert.match(r.details, /\(120000 characters\)/, `${method}: ${r.details}`);
    assert.is((await timed('getMac', {})).code, grpc.status.OK, `after ${method}: the channel works`);
  }
  // Past the server's message limit: refused by grpc-js before parsing, and the channel lives on.
  const r = await timed('addVip', { vip: { address: '1'.repeat(2 * 1024 * 1024), port: 80, protocol: 6 }, flags: 0 });
  assert.is(r.code, grpc.status.RESOURCE_EXHAUSTED, r.details.slice(0, 200));
  assert.ok(r.ms < 1000, `answered in ${r.ms} ms`);
  assert.equal(await call('getMac', {}), { mac: '0a:0b:0c:0d:0e:0f' });
});

test('a port in use is one clear error', async () => {
  try {
    await startKatranGrpcServer(lb, `127.0.0.1:${server.port}`);
    assert.unreachable('second bind succeeded');
  } catch (e) {
    assert.match((e as Error).message, /cannot listen on 127\.0\.0\.1:\d+/);
  }
});

test.after(async () => {
  client.close();
  await server.close();
});

test.run();
