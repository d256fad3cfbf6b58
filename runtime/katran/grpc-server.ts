// katran's KatranService (runtime/katran/katran.proto, KATRAN.md §6) over our control
// plane, so katran's own clients — and katran-cli — can drive a bpf2wasm instance.
// Status codes as katran's server gives them: a refused mutation is CANCELLED (with the
// reason), malformed arguments INVALID_ARGUMENT, getRealFlags UNIMPLEMENTED, health
// checks CANCELLED (not configured).

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../compiler/errors.js';
import { KatranLb, ModifyAction, type VipKey } from './control-plane.js';
import { KatranError } from './errors.js';

const PROTO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'runtime', 'katran', 'katran.proto');
const ALL_ONES = (1n << 64n) - 1n;

export function loadKatranProto(): grpc.GrpcObject {
  const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: Number, defaults: true });
  return grpc.loadPackageDefinition(definition);
}

export function katranServiceDefinition(): grpc.ServiceDefinition {
  const pkg = loadKatranProto().lb as grpc.GrpcObject;
  return ((pkg.katran as grpc.GrpcObject).KatranService as grpc.ServiceClientConstructor).service;
}

interface WireVip { address: string; port: number; protocol: number }
interface WireReal { address: string; weight: number; flags: number }

class StatusError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

const vipOf = (v: WireVip | null | undefined): VipKey => {
  if (!v) throw new StatusError(grpc.status.INVALID_ARGUMENT, 'missing vip');
  // katran truncates port and protocol to u16 / u8.
  return { address: v.address, port: v.port & 0xffff, proto: v.protocol & 0xff };
};
const stats = (s: { v1: bigint; v2: bigint }) => ({ v1: s.v1.toString(), v2: s.v2.toString() });
const actionOf = (a: number): ModifyAction => (a === 1 ? ModifyAction.DEL : ModifyAction.ADD);

type Handler = (request: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Wrap a handler: KatranError -> CANCELLED (katran's "false"), StatusError -> its code. */
function unary(fn: Handler): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    try {
      callback(null, fn(call.request));
    } catch (e) {
      if (e instanceof StatusError) callback({ code: e.code, details: e.message });
      else if (e instanceof KatranError || e instanceof UserError) callback({ code: grpc.status.CANCELLED, details: (e as Error).message });
      else callback({ code: grpc.status.INTERNAL, details: String((e as Error)?.message ?? e) });
    }
  };
}

const ok = { success: true };

export function katranHandlers(lb: KatranLb): grpc.UntypedServiceImplementation {
  return {
    changeMac: unary((r: { mac: string }) => (lb.changeMac(r.mac), ok)),
    getMac: unary(() => ({ mac: lb.getMacString().toLowerCase() })),
    addVip: unary((r: { vip: WireVip; flags: string }) => (lb.addVip(vipOf(r.vip), Number(BigInt(r.flags) & 0xffffffffn)), ok)),
    delVip: unary((r: WireVip) => (lb.delVip(vipOf(r)), ok)),
    getAllVips: unary(() => ({ vips: lb.getAllVips().map((v) => ({ address: v.address, port: v.port, protocol: v.proto })) })),
    modifyVip: unary((r: { vip: WireVip; flags: string; setFlag: boolean }) =>
      (lb.modifyVip(vipOf(r.vip), Number(BigInt(r.flags) & 0xffffffffn), r.setFlag), ok)),
    modifyReal: unary((r: { address: string; flags: number; setFlag: boolean }) => (lb.modifyReal(r.address, r.flags & 0xff, r.setFlag), ok)),
    getVipFlags: unary((r: WireVip) => {
      const vip = vipOf(r);
      return { flags: lb.hasVip(vip) ? String(lb.getVipFlags(vip)) : ALL_ONES.toString() };
    }),
    getRealFlags: unary(() => {
      throw new StatusError(grpc.status.UNIMPLEMENTED, 'getRealFlags is not implemented (as in katran)');
    }),
    addRealForVip: unary((r: { real: WireReal; vip: WireVip }) => (lb.addRealForVip(realOf(r.real), vipOf(r.vip)), ok)),
    delRealForVip: unary((r: { real: WireReal; vip: WireVip }) => (lb.delRealForVip(realOf(r.real), vipOf(r.vip)), ok)),
    modifyRealsForVip: unary((r: { action: number; real: { reals: WireReal[] }; vip: WireVip }) =>
      (lb.modifyRealsForVip(actionOf(r.action), (r.real?.reals ?? []).map(realOf), vipOf(r.vip)), ok)),
    getRealsForVip: unary((r: WireVip) => {
      const vip = vipOf(r);
      if (!lb.hasVip(vip)) throw new StatusError(grpc.status.CANCELLED, `unknown vip ${vip.address}:${vip.port}:${vip.proto}`);
      return { reals: lb.getRealsForVip(vip).map((x) => ({ address: x.address, weight: x.weight, flags: x.flags })) };
    }),
    modifyQuicRealsMapping: unary((r: { action: number; reals: { qreals: { address: string; id: number }[] } }) =>
      (lb.modifyQuicRealsMapping(actionOf(r.action), r.reals?.qreals ?? []), ok)),
    getQuicRealsMapping: unary(() => ({ qreals: lb.getQuicRealsMapping() })),
    getStatsForVip: unary((r: WireVip) => stats(lb.getStatsForVip(vipOf(r)))),
    getLruStats: unary(() => stats(lb.getLruStats())),
    getLruMissStats: unary(() => stats(lb.getLruMissStats())),
    getLruFallbackStats: unary(() => stats(lb.getLruFallbackStats())),
    getIcmpTooBigStats: unary(() => stats(lb.getIcmpTooBigStats())),
    addHealthcheckerDst: unary(noHealthchecks),
    delHealthcheckerDst: unary(noHealthchecks),
    getHealthcheckersDst: unary(noHealthchecks),
  };
}

function noHealthchecks(): never {
  throw new StatusError(grpc.status.CANCELLED, 'health checking is not configured');
}

function realOf(r: WireReal | null | undefined) {
  if (!r) throw new StatusError(grpc.status.INVALID_ARGUMENT, 'missing real');
  return { address: r.address, weight: r.weight, flags: r.flags & 0xff };
}

/** Serve KatranService on `address` (host:port; port 0 picks one). */
export async function startKatranGrpcServer(lb: KatranLb, address: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(katranServiceDefinition(), katranHandlers(lb));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(new UserError(`gRPC: cannot listen on ${address}: ${err.message}`)) : resolve(bound)),
  );
  return {
    port,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
