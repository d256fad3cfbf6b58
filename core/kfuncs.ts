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
//
// The XDP dynptr kfuncs give a program the packet's bytes, fragments included, through a
// 16-byte `struct bpf_dynptr` on its stack: bpf_dynptr_from_xdp makes one (and
// bpf_dynptr_clone a copy), the slices and bpf_dynptr_adjust / size / is_null / is_rdonly use it (the verifier's rules: compiler/verifier/dynptr.ts,
// the run-time side: runtime/dynptr.ts). The dynptr helpers bpf_dynptr_read / write / data
// are helpers, not kfuncs (core/helper-ids.ts).
// Every other kfunc reaches into kernel state (conntrack, sockets, skb dynptrs, kptrs)
// userspace has not got, and is refused by name.

export interface KfuncInfo {
  /** bpf2wasm's id, the imm of the linked call (the kernel's is a BTF id of its own vmlinux). */
  id: number;
  name: KfuncName;
  /** Argument registers the kfunc reads (r1..rN). */
  args: number;
  /**
   * RX metadata: byte size (BTF) of what each argument after the first (the context)
   * points at, written by the kfunc. Empty for the dynptr kfuncs, whose arguments the
   * verifier checks by kind (compiler/verifier/dynptr.ts).
   */
  outputs: readonly number[];
}

const KFUNC_TABLE = [
  // (ctx, __u64 *timestamp)
  { id: 1, name: 'bpf_xdp_metadata_rx_timestamp', args: 2, outputs: [8] },
  // (ctx, __u32 *hash, enum xdp_rss_hash_type *rss_type)
  { id: 2, name: 'bpf_xdp_metadata_rx_hash', args: 3, outputs: [4, 4] },
  // (ctx, __be16 *vlan_proto, __u16 *vlan_tci)
  { id: 3, name: 'bpf_xdp_metadata_rx_vlan_tag', args: 3, outputs: [2, 2] },
  // (struct xdp_md *x, u64 flags, struct bpf_dynptr *ptr__uninit)
  { id: 4, name: 'bpf_dynptr_from_xdp', args: 3, outputs: [] },
  // (const struct bpf_dynptr *p, u32 offset, void *buffer__opt, u32 buffer__szk)
  { id: 5, name: 'bpf_dynptr_slice', args: 4, outputs: [] },
  { id: 6, name: 'bpf_dynptr_slice_rdwr', args: 4, outputs: [] },
  // (const struct bpf_dynptr *p, u32 start, u32 end)
  { id: 7, name: 'bpf_dynptr_adjust', args: 3, outputs: [] },
  // (const struct bpf_dynptr *p)
  { id: 8, name: 'bpf_dynptr_is_null', args: 1, outputs: [] },
  { id: 9, name: 'bpf_dynptr_size', args: 1, outputs: [] },
  { id: 10, name: 'bpf_dynptr_is_rdonly', args: 1, outputs: [] },
  // (const struct bpf_dynptr *p, struct bpf_dynptr *clone__uninit)
  { id: 11, name: 'bpf_dynptr_clone', args: 2, outputs: [] },
] as const;

export type KfuncName = (typeof KFUNC_TABLE)[number]['name'];
export const KFUNCS: readonly KfuncInfo[] = KFUNC_TABLE;
export const KFUNC_BY_ID: ReadonlyMap<number, KfuncInfo> = new Map(KFUNCS.map((k) => [k.id, k]));
export const KFUNC_BY_NAME: ReadonlyMap<string, KfuncInfo> = new Map(KFUNCS.map((k) => [k.name, k]));

/** Argument registers a kfunc reads (r1..rN). */
export const kfuncArgs = (k: KfuncInfo): number => k.args;

/** The kfuncs that work on a dynptr (all but the RX-metadata ones). */
export const isDynptrKfunc = (k: KfuncInfo): boolean => k.name.startsWith('bpf_dynptr_');
