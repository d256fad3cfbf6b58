// The kfuncs (kernel functions a program declares `extern ... __ksym`) bpf2wasm runs. The
// linker turns a call to one into `call kfunc <id>` (src BPF_PSEUDO_KFUNC_CALL, as libbpf
// does) with the id below in place of the kernel's BTF id; the verifier checks its
// arguments, the compiled module imports it like a helper, under its own name (helpers are
// imported without the `bpf_` prefix, so the two never meet), and the interpreter calls
// the same function.
//
// The XDP RX-metadata kfuncs read what the NIC's driver put beside the frame. The kernel
// lets only device-bound programs (BPF_F_XDP_DEV_BOUND_ONLY) call them, and where the
// device's driver gives no metadata (no xdp_metadata_ops) they resolve to the kernel's
// defaults, which answer -EOPNOTSUPP and write nothing. A userspace datapath has no
// driver metadata either (AF_XDP copy mode passes none), so that is its answer too.
// Every other kfunc reaches into kernel state (conntrack, sockets, dynptrs over kernel
// buffers, kptrs) userspace has not got, and is refused by name.

export interface KfuncInfo {
  /** bpf2wasm's id, the imm of the linked call (the kernel's is a BTF id of its own vmlinux). */
  id: number;
  name: KfuncName;
  /** Byte size (BTF) of what each argument after the first (the context) points at, written by the kfunc. */
  outputs: readonly number[];
}

const KFUNC_TABLE = [
  // (ctx, __u64 *timestamp)
  { id: 1, name: 'bpf_xdp_metadata_rx_timestamp', outputs: [8] },
  // (ctx, __u32 *hash, enum xdp_rss_hash_type *rss_type)
  { id: 2, name: 'bpf_xdp_metadata_rx_hash', outputs: [4, 4] },
  // (ctx, __be16 *vlan_proto, __u16 *vlan_tci)
  { id: 3, name: 'bpf_xdp_metadata_rx_vlan_tag', outputs: [2, 2] },
] as const;

export type KfuncName = (typeof KFUNC_TABLE)[number]['name'];
export const KFUNCS: readonly KfuncInfo[] = KFUNC_TABLE;
export const KFUNC_BY_ID: ReadonlyMap<number, KfuncInfo> = new Map(KFUNCS.map((k) => [k.id, k]));
export const KFUNC_BY_NAME: ReadonlyMap<string, KfuncInfo> = new Map(KFUNCS.map((k) => [k.name, k]));

/** Argument registers a kfunc reads (r1..rN): the context and its outputs. */
export const kfuncArgs = (k: KfuncInfo): number => 1 + k.outputs.length;
