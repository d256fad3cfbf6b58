// The contract between compiled modules and the runtime: import names and signatures,
// exports, faults and the linear-memory layout. Beside it in core/: helper ids
// (helper-ids.ts), map types (map-types.ts), the map structures' layout (map-layout.ts),
// errno and flags (errno.ts), the key hash (key-hash.ts) and the manifest (manifest.ts).
// docs/abi.md explains the choices.

import type { HelperName } from './helper-ids.js';

// ---------------------------------------------------------------------------------------
// Imports and exports
// ---------------------------------------------------------------------------------------

/** Import module of the shared memory and of runtime services. */
export const ENV_MODULE = 'env';
export const MEMORY_IMPORT = 'memory';
/** Import module of helpers; each helper is imported as `helpers.<name>` (see HELPERS). */
export const HELPER_MODULE = 'helpers';
/**
 * Every helper import has the signature (i64 r1, i64 r2, i64 r3, i64 r4, i64 r5) -> i64,
 * whatever its argument count, so that a helper can be bound to JS or to another wasm
 * module's export without per-helper glue.
 */
export const HELPER_PARAMS = 5;
/**
 * Hot helpers skip the BigInt crossing: their imports take i32 arguments (pointers are
 * 32-bit in this memory model) and return i32, which codegen widens as `result` says —
 * `pointer` zero-extends, `int` sign-extends (0 / -errno). A flags argument above 32 bits
 * reaches the runtime as 0xffffffff, which no helper accepts, so such calls still fail.
 */
export interface I32HelperSig {
  args: number;
  result: 'pointer' | 'int';
  /** Register holding flags. */
  flagsArg?: number;
}

export const I32_HELPERS: Readonly<Partial<Record<HelperName, I32HelperSig>>> = {
  map_lookup_elem: { args: 2, result: 'pointer' },
  map_update_elem: { args: 4, result: 'int', flagsArg: 4 },
  map_delete_elem: { args: 2, result: 'int' },
  xdp_adjust_head: { args: 2, result: 'int' },
  xdp_adjust_meta: { args: 2, result: 'int' },
  xdp_adjust_tail: { args: 2, result: 'int' },
};

/** The i32 signature of a hot helper's import, or undefined for the common i64 one. */
export const i32HelperSig = (name: string): I32HelperSig | undefined => (I32_HELPERS as Record<string, I32HelperSig | undefined>)[name];

/**
 * Each program is also exported as `<export>${ENTRY32_SUFFIX}`: the same entry returning
 * r0's low 32 bits as an i32, which is all an XDP verdict needs; it spares the JS caller
 * the BigInt an i64 result costs on every packet.
 */
export const ENTRY32_SUFFIX = '$r0_32';

/** `callx`: a call to the helper whose id is in a register: (i64 id, r1..r5) -> i64. */
export const CALLX_IMPORT = 'callx';
/** Fault raised by compiled code: (i32 kind, i32 pc) -> never returns (throws). */
export const FAULT_IMPORT = 'fault';

export const FAULT = { BUDGET: 1, UNKNOWN_HELPER: 2, DIV_BY_ZERO: 3, BAD_CALL: 4, BAD_POINTER: 5 } as const;
export const FAULT_NAME: Record<number, string> = {
  [FAULT.BUDGET]: 'instruction budget exhausted',
  [FAULT.BAD_POINTER]: 'helper pointer argument outside memory',
  [FAULT.UNKNOWN_HELPER]: 'unknown helper',
  [FAULT.DIV_BY_ZERO]: 'division by zero',
  [FAULT.BAD_CALL]: 'bad call target',
};

/**
 * Per-instance set-up, exported by every module: (i32 cpu, i32 stackTop, i32 budget,
 * i32 xdpCtx, i32 flags). `cpu` is what get_smp_processor_id returns and selects per-CPU
 * slots; `stackTop` is the address one past the worker's stack area (MAX_CALL_DEPTH
 * frames); `budget` bounds the back-edges one run may take (0 = unlimited); `xdpCtx` is the
 * worker's XDP context block (XDP_CTX below), which the batch driver fills and the wasm
 * helpers read; `flags` are INIT_* bits.
 */
export const INIT_EXPORT = 'bpf2wasm_init';
/** bpf2wasm_init's `flags`: ktime_get_ns calls the JS import on every call (a precise clock). */
export const INIT_PRECISE_CLOCK = 1;
/** Each program is exported under its name as (i32 r1, i32 r2) -> i64 (r0 at exit). */

// ---------------------------------------------------------------------------------------
// Memory layout
// ---------------------------------------------------------------------------------------

export const STACK_FRAME = 512;
export const MAX_CALL_DEPTH = 8;
/** Bytes of stack a worker needs: one frame per call level. */
export const STACK_AREA = STACK_FRAME * MAX_CALL_DEPTH;
export const WASM_PAGE = 65536;
/** Addresses below this are never handed out, so 0 is NULL and small offsets from it are too. */
export const NULL_PAGE = WASM_PAGE;
/** Map descriptors: the value a program holds for a map is the address of its descriptor. */
export const MAP_DESC_BASE = NULL_PAGE;
export const MAP_DESC_SIZE = 64;
/** Room for static maps plus inner maps created at run time. */
export const MAP_DESC_COUNT = 4096;
/** Per-CPU storage is laid out for this many CPUs (workers) unless the compiler is told otherwise. */
export const DEFAULT_MAX_CPUS = 16;
/** Maximum of the shared memory: the whole 32-bit space. */
export const MAX_PAGES = 65536;

/** Where a map lives. Array-like maps get storage at compile time; others at run time. */
export interface MapPlacement {
  /** Address of the descriptor (the map's handle inside programs). */
  handle: number;
  /** Address of the first value for array-like maps (array, percpu_array, global data). */
  storage?: number;
  /** Bytes between consecutive values (value size rounded up to 8). */
  valueStride?: number;
  /** Bytes between CPUs' copies for per-CPU arrays (maxEntries * valueStride). */
  cpuStride?: number;
}

export interface MemoryLayout {
  nullPage: number;
  descBase: number;
  descSize: number;
  descCount: number;
  maxCpus: number;
  /** First address the runtime may allocate from (stacks, packets, hash maps, inner maps). */
  heapBase: number;
  /** Initial size of the shared memory in wasm pages (covers everything placed statically). */
  initialPages: number;
  maxPages: number;
}

export const align = (n: number, to: number): number => Math.ceil(n / to) * to;

// ---------------------------------------------------------------------------------------
// XDP context block and batches
// ---------------------------------------------------------------------------------------

/** XDP_PACKET_HEADROOM. */
export const XDP_HEADROOM = 256;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: reserved at the end of the frame. */
export const XDP_TAILROOM = 320;
/** sizeof(struct xdp_frame): the kernel keeps it at the start of the headroom. */
export const XDP_FRAME_STRUCT = 40;
/** Shortest packet XDP takes (an Ethernet header); adjust_head/tail keep at least this much. */
export const ETH_HLEN = 14;
/**
 * Metadata must stay a multiple of 4 bytes and fit xdp_frame's u8 metasize (bpf_xdp_adjust_meta;
 * older kernels allowed 32). With 256 bytes of headroom the headroom binds first.
 */
export const XDP_META_MAX = 255;

/**
 * One worker's XDP context block in linear memory (64-byte aligned): `struct xdp_md` as
 * programs see it (r1 points here), then the frame geometry and per-worker state that the
 * helpers compiled into the module (adjust_head/meta/tail, get_prandom_u32, ktime_get_ns)
 * and the JS helpers both read, so that either engine, and either path (batch or single
 * run), sees the same state. Byte offsets.
 */
export const XDP_CTX = {
  // struct xdp_md
  data: 0,
  dataEnd: 4,
  dataMeta: 8,
  ingressIfindex: 12,
  rxQueueIndex: 16,
  egressIfindex: 20,
  /** data_hard_start: the frame's first byte. */
  hardStart: 24,
  /** End of the usable area: frame + frame size - XDP_TAILROOM. */
  frameEnd: 28,
  /** Bytes in multi-buffer fragments (kept by the JS runtime); 0 for a linear packet. */
  fragLen: 32,
  /** The descriptor the batch driver is running (relative to the descriptors it was given). */
  batchIndex: 36,
  /** Set by bpf_redirect / bpf_redirect_map: REDIRECT_KIND, the ifindex or map handle, the key. */
  redirectKind: 40,
  redirectTarget: 44,
  redirectKey: 48,
  /** Tail calls taken by the current packet (MAX_TAIL_CALLS). */
  tailCalls: 52,
  /** get_prandom_u32's xorshift32 state (never 0). */
  prandom: 56,
  /** ktime_get_ns's value (u64, 8-aligned), refreshed by the host per batch and per single run. */
  clockNs: 64,
} as const;
export const XDP_CTX_SIZE = 128;
export const XDP_MD_SIZE = 24;
/** BROADCAST: to every device of the devmap whose handle is the target; the key word is 1
 *  with BPF_F_EXCLUDE_INGRESS. */
export const REDIRECT_KIND = { NONE: 0, IFINDEX: 1, MAP: 2, BROADCAST: 3 } as const;

/**
 * A batch descriptor, one per packet, written by the host into linear memory (u32 fields,
 * byte offsets). In: frame, frameSize, data (address of the first packet byte inside the
 * frame), length, ifindex, rxQueue. Out, written by the driver after the program returns:
 * action, data and length as the program left them, the redirect (REDIRECT_KIND, target,
 * key) for XDP_REDIRECT, and metaLength (data - data_meta: the metadata the program put in
 * front of the packet, which a test run returns and the wire never sees; the host zeroes it
 * in). A packet shorter than ETH_HLEN is not run: XDP_ABORTED,
 * the rest unchanged. A packet whose run faults keeps its inputs; the host marks it.
 */
export const BATCH_DESC = {
  frame: 0,
  frameSize: 4,
  data: 8,
  length: 12,
  ifindex: 16,
  rxQueue: 20,
  action: 24,
  redirectKind: 28,
  redirectTarget: 32,
  redirectKey: 36,
  metaLength: 40,
} as const;
export const BATCH_DESC_SIZE = 44;
/**
 * Each program is also exported as `<export>${BATCH_SUFFIX}`: (i32 descriptors, i32 count),
 * the batch driver, which runs the program on `count` descriptors in a row over the
 * instance's XDP context block. A fault unwinds the call: the host reads XDP_CTX.batchIndex,
 * aborts that packet and calls again from the next descriptor.
 */
export const BATCH_SUFFIX = '$batch';
