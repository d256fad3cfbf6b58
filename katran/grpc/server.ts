// katran's KatranService (katran/grpc/katran.proto, KATRAN.md §6) over our control
// plane, so katran's own clients — and katran-cli — can drive a bpf2wasm instance.
//
// Status codes follow katran's server: a mutation the balancer refuses (unknown VIP,
// duplicate, maps full...) is CANCELLED with the reason as the status message (katran
// sends the Bool false that way); getRealFlags is UNIMPLEMENTED; the health-check RPCs
// write hc_reals_map and are all CANCELLED when the object has no such map (katran's
// server with health checking off); getVipFlags of an unknown VIP is 2^64-1 with OK;
// getStatsForVip of an unknown VIP is zeros. katran's proto has no source-routing or
// inline-decap calls, so neither has this server.
//
// One deliberate difference: a malformed request (unparsable address or MAC, a missing
// vip/real sub-message, a number outside the C type katran stores it in, an unknown
// Action) is INVALID_ARGUMENT. katran folds those into CANCELLED, or silently truncates
// the number (port 70000 would become 4464); rejecting them is safer.
//
// Requests come from the network: lengths are checked before parsing, an error quotes
// at most SHOWN_CHARS of what it was given, and no status message exceeds MAX_DETAILS
// (a status message echoing a 120,000-character address overflowed the client's header
// limit: the call hung until its deadline and the channel with it).

import * as grpc from '@grpc/grpc-js';
import { UserError } from '../../core/errors.js';
import { KatranLb, ModifyAction, type NewReal, type QuicReal, type VipKey } from '../control-plane.js';
import { KatranError, KatranMapError } from '../errors.js';
import {
  type WireHealthcheck,
  type WireModifiedQuicReals,
  type WireModifiedReals,
  type WireRealForVip,
  type WireRealMeta,
  type WireReal,
  type WireVip,
  type WireVipMeta,
  WIRE_ACTION,
  katranServiceDefinition,
} from './proto.js';
import { parseIp } from '../ip.js';
import { parseMac } from '../mac.js';

export { loadKatranProto, katranServiceDefinition } from './proto.js';

const ALL_ONES = ((1n << 64n) - 1n).toString();
const U32_MAX = 0xffffffff;

/** A reply other than OK, chosen by the handler. */
class StatusError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string): never => {
  throw new StatusError(grpc.status.INVALID_ARGUMENT, message);
};

/** How much of a bad input an error quotes. */
const SHOWN_CHARS = 64;
/** The longest status message sent (gRPC carries it in a header). */
const MAX_DETAILS = 512;
/** The longest textual IPv6 address (with an embedded IPv4) is 45 characters. */
const MAX_ADDRESS_CHARS = 64;
/** katran's largest request (modifyRealsForVip of thousands of reals) is far below this. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** A bad input for a message: quoted, cut to SHOWN_CHARS with its length said. */
function shown(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? 'missing' : String(JSON.stringify(value)).slice(0, SHOWN_CHARS);
  if (value.length <= SHOWN_CHARS) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, SHOWN_CHARS))}... (${value.length} characters)`;
}

const cut = (message: string): string => (message.length > MAX_DETAILS ? `${message.slice(0, MAX_DETAILS)}...` : message);

function address(text: unknown, what: string): string {
  if (typeof text !== 'string' || text.length > MAX_ADDRESS_CHARS || !parseIp(text))
    invalid(`${what} ${shown(text)} is not an IPv4 or IPv6 address`);
  return text as string;
}

function inRange(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) invalid(`${what} ${value} is outside ${min}..${max}`);
  return value;
}

function vipOf(v: WireVip | null | undefined): VipKey {
  if (!v) return invalid('the request has no vip');
  return {
    address: address(v.address, 'vip address'),
    port: inRange(v.port, 0, 0xffff, 'vip port'),
    proto: inRange(v.protocol, 0, 0xff, 'vip protocol'),
  };
}

function realOf(r: WireReal | null | undefined): NewReal {
  if (!r) return invalid('the request has no real');
  return {
    address: address(r.address, 'real address'),
    weight: inRange(r.weight, 0, 0x7fffffff, `real ${r.address}: weight`),
    flags: inRange(r.flags, 0, 0xff, `real ${r.address}: flags`),
  };
}

/** VipMeta.flags is an int64 (a decimal string here); katran keeps a u32. */
function vipFlagsOf(text: string): number {
  if (typeof text !== 'string' || !/^-?\d{1,20}$/.test(text)) return invalid(`vip flags ${shown(text)} are not a number`);
  const flags = BigInt(text);
  if (flags < 0n || flags > BigInt(U32_MAX)) invalid(`vip flags ${text} are outside 0..${U32_MAX}`);
  return Number(flags);
}

function actionOf(a: number): ModifyAction {
  if (a === WIRE_ACTION.ADD) return ModifyAction.ADD;
  if (a === WIRE_ACTION.DEL) return ModifyAction.DEL;
  return invalid(`unknown action ${a}`);
}

function quicRealOf(q: { address: string; id: number }): QuicReal {
  return { address: address(q.address, 'quic real address'), id: inRange(q.id, 0, 0x7fffffff, `quic real ${q.address}: id`) };
}

const stats = (s: { v1: bigint; v2: bigint }) => ({ v1: s.v1.toString(), v2: s.v2.toString() });
const OK = { success: true };

// Handlers receive what proto-loader decoded; the Wire* types describe it.
type Handler = (request: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs a handler and turns what it throws into katran's status codes. */
function unary(fn: Handler): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    try {
      callback(null, fn(call.request));
    } catch (e) {
      if (e instanceof StatusError) callback({ code: e.code, details: cut(e.message) });
      // katran turns every refusal (false, or an exception of the library) into CANCELLED.
      else if (e instanceof KatranError || e instanceof KatranMapError || e instanceof UserError) {
        callback({ code: grpc.status.CANCELLED, details: cut(e.message) });
      } else callback({ code: grpc.status.INTERNAL, details: cut(`internal error: ${String((e as Error)?.message ?? e)}`) });
    }
  };
}

export function katranHandlers(lb: KatranLb): grpc.UntypedServiceImplementation {
  return {
    changeMac: unary((r: { mac: string }) => {
      const mac =
        (typeof r.mac === 'string' && r.mac.length <= SHOWN_CHARS ? parseMac(r.mac) : undefined) ??
        invalid(`mac ${shown(r.mac)} is not xx:xx:xx:xx:xx:xx`);
      lb.changeMac(mac);
      return OK;
    }),
    getMac: unary(() => ({ mac: lb.getMacString().toLowerCase() })),

    // setFlag is ignored by addVip, as in katran.
    addVip: unary((r: WireVipMeta) => (lb.addVip(vipOf(r.vip), vipFlagsOf(r.flags)), OK)),
    delVip: unary((r: WireVip) => (lb.delVip(vipOf(r)), OK)),
    getAllVips: unary(() => ({ vips: lb.getAllVips().map((v) => ({ address: v.address, port: v.port, protocol: v.proto })) })),
    modifyVip: unary((r: WireVipMeta) => (lb.modifyVip(vipOf(r.vip), vipFlagsOf(r.flags), r.setFlag), OK)),
    modifyReal: unary(
      (r: WireRealMeta) => (lb.modifyReal(address(r.address, 'real address'), inRange(r.flags, 0, 0xff, 'real flags'), r.setFlag), OK),
    ),
    getVipFlags: unary((r: WireVip) => {
      const vip = vipOf(r);
      return { flags: lb.hasVip(vip) ? String(lb.getVipFlags(vip)) : ALL_ONES };
    }),
    getRealFlags: unary(() => {
      throw new StatusError(grpc.status.UNIMPLEMENTED, 'getRealFlags is declared but not implemented (as in katran)');
    }),

    addRealForVip: unary((r: WireRealForVip) => (lb.addRealForVip(realOf(r.real), vipOf(r.vip)), OK)),
    delRealForVip: unary((r: WireRealForVip) => (lb.delRealForVip(realOf(r.real), vipOf(r.vip)), OK)),
    modifyRealsForVip: unary((r: WireModifiedReals) => {
      const action = actionOf(r.action);
      const vip = vipOf(r.vip);
      lb.modifyRealsForVip(action, (r.real?.reals ?? []).map(realOf), vip);
      return OK;
    }),
    getRealsForVip: unary((r: WireVip) => {
      const vip = vipOf(r);
      if (!lb.hasVip(vip))
        throw new StatusError(grpc.status.CANCELLED, `getRealsForVip: unknown VIP ${vip.address}:${vip.port}:${vip.proto}`);
      return { reals: lb.getRealsForVip(vip) };
    }),

    modifyQuicRealsMapping: unary((r: WireModifiedQuicReals) => {
      const action = actionOf(r.action);
      lb.modifyQuicRealsMapping(action, (r.reals?.qreals ?? []).map(quicRealOf));
      return OK;
    }),
    getQuicRealsMapping: unary(() => ({ qreals: lb.getQuicRealsMapping() })),

    getStatsForVip: unary((r: WireVip) => stats(lb.stats.getStatsForVip(vipOf(r)))),
    getLruStats: unary(() => stats(lb.stats.getLruStats())),
    getLruMissStats: unary(() => stats(lb.stats.getLruMissStats())),
    getLruFallbackStats: unary(() => stats(lb.stats.getLruFallbackStats())),
    getIcmpTooBigStats: unary(() => stats(lb.stats.getIcmpTooBigStats())),

    addHealthcheckerDst: unary((r: WireHealthcheck) => {
      requireHealthchecking(lb);
      lb.addHealthcheckerDst(r.somark, address(r.address, 'healthcheck address'));
      return OK;
    }),
    delHealthcheckerDst: unary((r: { somark: number }) => {
      requireHealthchecking(lb);
      lb.delHealthcheckerDst(r.somark);
      return OK;
    }),
    getHealthcheckersDst: unary(() => {
      requireHealthchecking(lb);
      // hcMap keys are int32: marks above 2^31 travel as katran sends them, negative.
      return { healthchecks: Object.fromEntries([...lb.getHealthcheckersDst()].map(([somark, addr]) => [somark | 0, addr])) };
    }),
  };
}

function requireHealthchecking(lb: KatranLb): void {
  if (!lb.healthcheckingAvailable) {
    throw new StatusError(grpc.status.CANCELLED, 'health checking is not configured: the object has no map hc_reals_map');
  }
}

export interface KatranGrpcServer {
  /** The bound port (the one chosen when `address` asked for port 0). */
  port: number;
  close(): Promise<void>;
}

/** Serves KatranService on `address` (host:port, v6 as [addr]:port; port 0 picks one). */
export async function startKatranGrpcServer(lb: KatranLb, address: string): Promise<KatranGrpcServer> {
  const server = new grpc.Server({
    // Larger requests get RESOURCE_EXHAUSTED from grpc-js before any parsing.
    'grpc.max_receive_message_length': MAX_REQUEST_BYTES,
  });
  server.addService(katranServiceDefinition(), katranHandlers(lb));
  const port = await bindQuietly(server, address);
  return {
    port,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/**
 * grpc-js logs a failed bind to stderr ("E No address added...") before rejecting; the
 * caller gets our one-line error instead, so its logger is muted for the bind unless the
 * user asked for gRPC logs (GRPC_VERBOSITY / GRPC_NODE_VERBOSITY).
 */
async function bindQuietly(server: grpc.Server, address: string): Promise<number> {
  const userVerbosity = process.env.GRPC_NODE_VERBOSITY ?? process.env.GRPC_VERBOSITY;
  if (!userVerbosity) grpc.setLogVerbosity(grpc.logVerbosity.NONE);
  try {
    return await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
  } catch (e) {
    throw new UserError(`gRPC server: cannot listen on ${address}: ${bindReason(String((e as Error).message))}`);
  } finally {
    if (!userVerbosity) grpc.setLogVerbosity(grpc.logVerbosity.ERROR);
  }
}

function bindReason(message: string): string {
  if (/EADDRINUSE/.test(message)) return 'address already in use';
  if (/EACCES/.test(message)) return 'permission denied';
  if (/EADDRNOTAVAIL/.test(message)) return 'address not available on this host';
  return message.replace(/\s+/g, ' ');
}
