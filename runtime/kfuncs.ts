// The kfuncs bpf2wasm runs (core/kfuncs.ts), by their kernel names: compiled modules import
// them and the interpreter calls them, like helpers.
//
// The XDP RX-metadata kfuncs answer what the kernel's default implementations answer for a
// device whose driver gives no metadata: -EOPNOTSUPP, outputs left as they were. This
// datapath reads frames from AF_XDP in copy mode (or a pcap, or a test), which carry no
// driver metadata (no RX timestamp, RSS hash or stripped VLAN tag), so there is nothing
// else to answer; a program must treat these as optional, as it must in the kernel.
//
// The dynptr kfuncs are runtime/dynptr.ts's.

import { ERRNO } from '../core/errno.js';
import type { KfuncName } from '../core/kfuncs.js';
import { dynptrFunctions } from './dynptr.js';

const EOPNOTSUPP = BigInt(-ERRNO.EOPNOTSUPP);

export function makeKfuncs(dynptr: ReturnType<typeof dynptrFunctions>): Record<KfuncName, (...args: bigint[]) => bigint> {
  return {
    bpf_dynptr_from_xdp: dynptr.bpf_dynptr_from_xdp!,
    bpf_dynptr_slice: dynptr.bpf_dynptr_slice!,
    bpf_dynptr_slice_rdwr: dynptr.bpf_dynptr_slice_rdwr!,
    bpf_dynptr_adjust: dynptr.bpf_dynptr_adjust!,
    bpf_dynptr_is_null: dynptr.bpf_dynptr_is_null!,
    bpf_dynptr_size: dynptr.bpf_dynptr_size!,
    bpf_dynptr_is_rdonly: dynptr.bpf_dynptr_is_rdonly!,
    bpf_dynptr_clone: dynptr.bpf_dynptr_clone!,
    bpf_xdp_metadata_rx_timestamp: () => EOPNOTSUPP,
    bpf_xdp_metadata_rx_hash: () => EOPNOTSUPP,
    bpf_xdp_metadata_rx_vlan_tag: () => EOPNOTSUPP,
  };
}
