// Public surface of the katran control plane, for the runtime, the CLI and the gRPC server.

export { KatranLb, ModifyAction, DEFAULT_CONFIG, MAX_QUIC_ID_V2 } from './control-plane.js';
export type { KatranConfig, VipKey, NewReal, QuicReal, UpdateReport } from './control-plane.js';
export { KatranError, KatranMapError } from './errors.js';
export type { KatranMaps, InnerMapSpec, InnerMapHandle, MapRef } from './maps/maps.js';
export type { MapShape } from '../core/map-types.js';
export { KATRAN_MAP_SHAPES } from './maps/maps.js';
export { MAP_TYPE, MAP_FLAG } from '../core/map-types.js';
export { MemoryMaps } from './maps/memory-maps.js';
export { MaglevVersion, DEFAULT_RING_SIZE, buildRing, sortEndpoints, maglevPermutation, countSlots } from './hash/maglev.js';
export type { Endpoint } from './hash/maglev.js';
export { follyIpHash } from './hash/folly-hash.js';
export { jhash, jhash2Words } from './hash/jhash.js';
export { flowHash, flowRingSlot, VIP_FLAG, DEFAULT_FLOW_HASH } from './hash/flow-hash.js';
export type { HashedFlow, FlowHashParams } from './hash/flow-hash.js';
export { parseIp, formatIp } from './ip.js';
export { parseCidr, formatCidr } from './cidr.js';
export type { Cidr } from './cidr.js';
export { DEFAULT_MAX_LPM_SRC_SIZE } from './src-routing.js';
export { DEFAULT_MAX_DECAP_DST } from './decap-dsts.js';
export type { IpAddress } from './ip.js';
export { parseMac, formatMac } from './mac.js';
export { GLOBAL_STATS } from './maps/stats-layout.js';
export type { GlobalStat } from './maps/stats-layout.js';
export * from './maps/structs.js';
