// What katran_tester configures before it runs its base fixtures (prepareLbData and
// prepareVipUninitializedLbData in katran's KatranTestProvision.cpp), made through our
// katran control plane: the same VIPs, flags, reals, QUIC server ids and down real, in the
// same order, so VIP numbers and real indices come out as in katran's own run.
// Healthcheck destinations are left out: katran_tester runs without a healthchecking
// program, and katran then ignores addHealthcheckerDst.

import { KatranLb, ModifyAction, type VipKey } from '../../katran/control-plane.js';

const TCP = 6;
const UDP = 17;
const VIP_PORT = 80;
const NO_LRU = 2;
const QUIC_VIP = 4;
const DPORT_HASH = 8;
const UDP_FLOW_MIGRATION = 512;

/** katran_tester's reals, in the order its QUIC server ids are assigned to them. */
export const TESTER_REALS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', 'fc00::1', 'fc00::2', 'fc00::3'];
const V4_REALS = TESTER_REALS.slice(0, 3);
const V6_REALS = TESTER_REALS.slice(3);
const QUIC_IDS = [1022, 1023, 1025, 1024, 1026, 1027];
/** QUIC connection-id v2 ids carry a "tw job" of 3 in bits 16-23. */
const CID_V2_JOB = 0x030000;

/** katran_tester's KatranLb settings that differ from the defaults (the sources matter to GUE builds only). */
export const TESTER_CONFIG = {
  defaultMac: '00:00:de:ad:be:af',
  maxVips: 512,
  katranSrcV4: '10.0.13.37',
  katranSrcV6: 'fc00:2307::1337',
} as const;

interface VipSetUp {
  reals: readonly string[];
  /** Flags katran sets before adding the reals, and after. */
  before?: number[];
  after?: number[];
  /** False for the one VIP katran never puts in NO_LRU. */
  lruOptional?: boolean;
}

/** addVip, NO_LRU when `skipLru`, the flags, and the reals at weight 1 — in katran's order. */
function addVip(lb: KatranLb, vip: VipKey, setUp: VipSetUp, skipLru: boolean): void {
  lb.addVip(vip);
  if (skipLru && setUp.lruOptional !== false) lb.modifyVip(vip, NO_LRU);
  for (const f of setUp.before ?? []) lb.modifyVip(vip, f);
  for (const address of setUp.reals) lb.addRealForVip({ address, weight: 1 }, vip);
  for (const f of setUp.after ?? []) lb.modifyVip(vip, f);
}

/** prepareLbData; with `skipLru` every VIP but the v4-in-v6 one gets NO_LRU, as in katran's perf runs. */
export function prepareLbData(lb: KatranLb, skipLru = false): void {
  const add = (vip: VipKey, setUp: VipSetUp): void => addVip(lb, vip, setUp, skipLru);
  add({ address: '10.200.1.1', port: VIP_PORT, proto: UDP }, { reals: V4_REALS });
  add({ address: '10.200.1.1', port: VIP_PORT, proto: TCP }, { reals: V4_REALS });
  // Port 0: the VIP matches every destination port (TURN-like services).
  add({ address: '10.200.1.2', port: 0, proto: TCP }, { reals: V4_REALS });
  add({ address: '10.200.1.4', port: 0, proto: TCP }, { reals: V4_REALS, after: [DPORT_HASH] });
  add({ address: '10.200.1.3', port: VIP_PORT, proto: TCP }, { reals: V6_REALS, lruOptional: false });
  add({ address: 'fc00:1::1', port: VIP_PORT, proto: TCP }, { reals: V6_REALS });
  lb.modifyQuicRealsMapping(
    ModifyAction.ADD,
    TESTER_REALS.flatMap((address, i) => [
      { address, id: QUIC_IDS[i]! },
      { address, id: CID_V2_JOB | QUIC_IDS[i]! },
    ]),
  );
  add({ address: '10.200.1.5', port: 443, proto: UDP }, { reals: V4_REALS, before: [QUIC_VIP] });
  add({ address: 'fc00:1::2', port: 443, proto: UDP }, { reals: V6_REALS, before: [QUIC_VIP] });
  const migrating = { address: '10.200.1.6', port: VIP_PORT, proto: UDP };
  add(migrating, { reals: V4_REALS, before: [UDP_FLOW_MIGRATION] });
  lb.addDownRealToVipToDownRealsMap(migrating, 1);
}

/** prepareVipUninitializedLbData: two VIPs with no reals at all. */
export function prepareVipUninitializedLbData(lb: KatranLb): void {
  lb.addVip({ address: '10.200.1.99', port: VIP_PORT, proto: TCP });
  lb.addVip({ address: 'fc00:1::11', port: VIP_PORT, proto: UDP });
}
