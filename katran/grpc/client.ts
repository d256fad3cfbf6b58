// A typed client for katran's KatranService (ours or katran's own server): one method per
// RPC, 64-bit values as bigint, and every failure as a KatranRpcError naming the RPC, the
// status and the server's message — or, when nothing answers, the address tried.

import * as grpc from '@grpc/grpc-js';
import { UserError } from '../../core/errors.js';
import { type WireQuicReal, type WireReal, type WireStats, type WireVip, WIRE_ACTION, katranServiceClient, statusName } from './proto.js';

export type { WireVip, WireReal, WireQuicReal } from './proto.js';

export interface Stats {
  v1: bigint;
  v2: bigint;
}

export class KatranRpcError extends UserError {
  override name = 'KatranRpcError';
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    readonly details: string,
    server: string,
  ) {
    super(KatranRpcError.describe(method, code, details, server));
  }

  /** The server could not be reached (as opposed to answering with an error). */
  get unreachable(): boolean {
    return this.code === grpc.status.UNAVAILABLE || this.code === grpc.status.DEADLINE_EXCEEDED;
  }

  private static describe(method: string, code: grpc.status, details: string, server: string): string {
    if (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED) {
      const cause = /ECONNREFUSED/.test(details)
        ? 'connection refused'
        : /ENOTFOUND|EAI_AGAIN/.test(details)
          ? 'unknown host'
          : code === grpc.status.DEADLINE_EXCEEDED
            ? 'no answer in time'
            : details;
      return `cannot reach the katran server at ${server} (${cause})`;
    }
    return `${method}: ${details || 'failed'} (${statusName(code)})`;
  }
}

type Callback = (err: grpc.ServiceError | null, reply: unknown) => void;
type Method = (request: unknown, options: grpc.CallOptions, callback: Callback) => void;

const toStats = (s: WireStats): Stats => ({ v1: BigInt(s.v1), v2: BigInt(s.v2) });

export interface ClientOptions {
  /** Per-call deadline; also bounds how long an unreachable server is waited for. */
  deadlineMs?: number;
}

export class KatranGrpcClient {
  private readonly client: grpc.Client;
  private readonly deadlineMs: number;

  constructor(
    readonly server: string,
    options: ClientOptions = {},
  ) {
    const Service = katranServiceClient();
    this.client = new Service(server, grpc.credentials.createInsecure());
    this.deadlineMs = options.deadlineMs ?? 5000;
  }

  close(): void {
    this.client.close();
  }

  /** Any RPC by name, with the request as proto-loader takes it. */
  call<T>(method: string, request: unknown): Promise<T> {
    const fn = (this.client as unknown as Record<string, Method>)[method];
    if (typeof fn !== 'function') return Promise.reject(new UserError(`KatranService has no RPC ${method}`));
    return new Promise<T>((resolve, reject) => {
      fn.call(this.client, request, { deadline: Date.now() + this.deadlineMs }, (err, reply) => {
        if (err) reject(new KatranRpcError(method, err.code, err.details, this.server));
        else resolve(reply as T);
      });
    });
  }

  // Mutators resolve to the Bool katran returns (a refusal arrives as CANCELLED instead).
  private async ok(method: string, request: unknown): Promise<boolean> {
    return (await this.call<{ success: boolean }>(method, request)).success;
  }

  changeMac(mac: string): Promise<boolean> {
    return this.ok('changeMac', { mac });
  }
  async getMac(): Promise<string> {
    return (await this.call<{ mac: string }>('getMac', {})).mac;
  }

  addVip(vip: WireVip, flags: bigint | number = 0): Promise<boolean> {
    return this.ok('addVip', { vip, flags: String(flags), setFlag: true });
  }
  delVip(vip: WireVip): Promise<boolean> {
    return this.ok('delVip', vip);
  }
  async getAllVips(): Promise<WireVip[]> {
    return (await this.call<{ vips: WireVip[] }>('getAllVips', {})).vips;
  }
  modifyVip(vip: WireVip, flags: bigint | number, set: boolean): Promise<boolean> {
    return this.ok('modifyVip', { vip, flags: String(flags), setFlag: set });
  }
  modifyReal(address: string, flags: number, set: boolean): Promise<boolean> {
    return this.ok('modifyReal', { address, flags, setFlag: set });
  }
  /** 2^64-1 for a VIP the server does not know (katran's answer). */
  async getVipFlags(vip: WireVip): Promise<bigint> {
    return BigInt((await this.call<{ flags: string }>('getVipFlags', vip)).flags);
  }
  async getRealFlags(real: WireReal): Promise<bigint> {
    return BigInt((await this.call<{ flags: string }>('getRealFlags', real)).flags);
  }

  addRealForVip(real: WireReal, vip: WireVip): Promise<boolean> {
    return this.ok('addRealForVip', { real, vip });
  }
  delRealForVip(real: WireReal, vip: WireVip): Promise<boolean> {
    return this.ok('delRealForVip', { real, vip });
  }
  modifyRealsForVip(action: 'ADD' | 'DEL', reals: WireReal[], vip: WireVip): Promise<boolean> {
    return this.ok('modifyRealsForVip', { action: WIRE_ACTION[action], real: { reals }, vip });
  }
  async getRealsForVip(vip: WireVip): Promise<WireReal[]> {
    return (await this.call<{ reals: WireReal[] }>('getRealsForVip', vip)).reals;
  }

  modifyQuicRealsMapping(action: 'ADD' | 'DEL', qreals: WireQuicReal[]): Promise<boolean> {
    return this.ok('modifyQuicRealsMapping', { action: WIRE_ACTION[action], reals: { qreals } });
  }
  async getQuicRealsMapping(): Promise<WireQuicReal[]> {
    return (await this.call<{ qreals: WireQuicReal[] }>('getQuicRealsMapping', {})).qreals;
  }

  async getStatsForVip(vip: WireVip): Promise<Stats> {
    return toStats(await this.call('getStatsForVip', vip));
  }
  async getLruStats(): Promise<Stats> {
    return toStats(await this.call('getLruStats', {}));
  }
  async getLruMissStats(): Promise<Stats> {
    return toStats(await this.call('getLruMissStats', {}));
  }
  async getLruFallbackStats(): Promise<Stats> {
    return toStats(await this.call('getLruFallbackStats', {}));
  }
  async getIcmpTooBigStats(): Promise<Stats> {
    return toStats(await this.call('getIcmpTooBigStats', {}));
  }

  addHealthcheckerDst(somark: number, address: string): Promise<boolean> {
    return this.ok('addHealthcheckerDst', { somark, address });
  }
  delHealthcheckerDst(somark: number): Promise<boolean> {
    return this.ok('delHealthcheckerDst', { somark });
  }
  /** somark -> address. */
  async getHealthcheckersDst(): Promise<Map<number, string>> {
    const reply = await this.call<{ healthchecks: Record<string, string> }>('getHealthcheckersDst', {});
    return new Map(Object.entries(reply.healthchecks ?? {}).map(([k, v]) => [Number(k), v]));
  }
}
