// What a test may need that a machine can lack: a small closed vocabulary, so that strict
// mode (REQUIRE_KERNEL=1, set by CI, which runs as root with the addon built) decides by
// kind which skips are failures there, instead of matching the words of a reason.

export const NEEDS = {
  /** Root, for the bpf() syscall, network namespaces, mounting bpffs/tracefs. */
  root: { strict: true, says: 'root' },
  /** native/build/Release/bpf2wasm_native.node (node scripts/build-native.mjs). */
  'native-addon': { strict: true, says: 'the native addon' },
  /** A kernel facility: the BPF filesystem at /sys/fs/bpf, tracefs. */
  'kernel-bpf': { strict: true, says: "the kernel's BPF facilities" },
  /** A host tool scripts/setup.sh installs (bpftool, ip, ethtool, tcpdump, ...). */
  'host-tool': { strict: true, says: 'a host tool' },
  /** clang with the BPF target. */
  clang: { strict: true, says: 'clang' },
  /** The eBPF ISA conformance vectors (../shared/bpf_conformance); CI has them. */
  'conformance-vectors': { strict: true, says: 'the conformance vectors' },
  /** KATRAN_BPF_OBJ: katran's balancer.bpf.o, built outside this repository; CI has none. */
  'katran-object': { strict: false, says: "katran's object (KATRAN_BPF_OBJ)" },
  /** KATRAN_SRC: a katran checkout (its test fixtures headers). */
  'katran-source': { strict: false, says: "katran's source (KATRAN_SRC)" },
  /** LLVMBPF_DIR / UBPF_DIR: a build of a peer JIT made outside this repository (bench/README.md "Peers"). */
  'peer-build': { strict: false, says: 'a peer JIT build (LLVMBPF_DIR or UBPF_DIR)' },
  /** An opt-in long run (SOAK_S=600 for the soak test): minutes of wall time, so never by default. */
  'long-run': { strict: false, says: 'an opt-in long run' },
  /** A katran object built with other options than the one given. */
  'katran-build': { strict: false, says: 'another katran build' },
} as const satisfies Record<string, { strict: boolean; says: string }>;

export type Need = keyof typeof NEEDS;

/** Something missing here: its kind, and the particulars to show (which tool, which path). */
export interface Missing {
  need: Need;
  detail: string;
}

export const isNeed = (x: unknown): x is Need => typeof x === 'string' && Object.hasOwn(NEEDS, x);

/** Whether REQUIRE_KERNEL=1 turns a skip for this need into a failure. */
export const failsWhenKernelRequired = (need: Need): boolean => NEEDS[need].strict;
