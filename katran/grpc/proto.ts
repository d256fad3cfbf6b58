// katran's KatranService definition (katran/grpc/katran.proto), loaded at run time by
// both the gRPC server and the client, plus the message shapes as @grpc/proto-loader
// hands them over: 64-bit integers travel as decimal strings (longs: String), enums as
// numbers, unset fields as their proto3 defaults (sub-messages: null).

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';

// There is no protoc step, so the .proto stays in the source tree beside this file's source.
const PROTO_PATH = join(packageRoot, 'katran', 'grpc', 'katran.proto');

export const KATRAN_SERVICE = 'lb.katran.KatranService';

export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: Number, defaults: true };

let cached: protoLoader.PackageDefinition | undefined;

/** The parsed .proto (shared: parsing it takes ~20 ms). */
export function katranPackageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
  return cached;
}

export function loadKatranProto(): grpc.GrpcObject {
  return grpc.loadPackageDefinition(katranPackageDefinition());
}

/** The client constructor of KatranService; `.service` is the server-side definition. */
export function katranServiceClient(): grpc.ServiceClientConstructor {
  const katran = (loadKatranProto().lb as grpc.GrpcObject).katran as grpc.GrpcObject;
  return katran.KatranService as grpc.ServiceClientConstructor;
}

export function katranServiceDefinition(): grpc.ServiceDefinition {
  return katranServiceClient().service;
}

// ---- messages as they cross the wire (field names as in the .proto)

export interface WireVip {
  address: string;
  port: number;
  protocol: number;
}
export interface WireVipMeta {
  vip: WireVip | null;
  flags: string;
  setFlag: boolean;
}
export interface WireRealMeta {
  address: string;
  flags: number;
  setFlag: boolean;
}
export interface WireReal {
  address: string;
  weight: number;
  flags: number;
}
export interface WireQuicReal {
  address: string;
  id: number;
}
export interface WireStats {
  v1: string;
  v2: string;
}
export interface WireHealthcheck {
  somark: number;
  address: string;
}
export interface WireRealForVip {
  real: WireReal | null;
  vip: WireVip | null;
}
export interface WireModifiedReals {
  action: number;
  real: { reals: WireReal[] } | null;
  vip: WireVip | null;
}
export interface WireModifiedQuicReals {
  action: number;
  reals: { qreals: WireQuicReal[] } | null;
}

/** Action enum of the .proto. */
export const WIRE_ACTION = { ADD: 0, DEL: 1 } as const;

/** grpc.status names, for messages ("CANCELLED" rather than 1). */
export function statusName(code: number): string {
  return (grpc.status as unknown as Record<number, string>)[code] ?? `status ${code}`;
}
