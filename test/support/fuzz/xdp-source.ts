// Random XDP programs as C source, for differential fuzzing against the kernel
// (test/fuzz/kernel.test.ts): clang compiles them, the kernel's verifier decides which are
// valid, and the accepted ones run in the kernel, as wasm and on the interpreter.
//
// A program works on six u64 scalars v0..v5 and a verdict `ret`, with:
//   - ALU on scalars (64- and 32-bit, shifts masked or not, division by a possible zero,
//     sign/zero extensions, byte swaps, comparisons), if/else and bounded loops;
//   - packet access: loads and stores of 1/2/4/8 bytes (signed loads too) at constant or
//     variable offsets, each inside a range checked against data_end, either by its own
//     check or by an earlier early-exit guard (`if (data + N > data_end) goto out`);
//   - a BPF-to-BPF call of a scalar subprogram;
//   - helpers: map lookup/update/delete on a hash map and an array map (with null checks,
//     plain and atomic accesses through the value pointer), csum_diff over stack words or
//     packet bytes, xdp_adjust_head/tail/meta (data pointers re-loaded after each),
//     xdp_load_bytes/store_bytes, xdp_get_buff_len.
// Helpers whose results differ by design (ktime, prandom, the CPU number) are never used.
// At `out:` every scalar is stored in the `out` array map, so a scalar that differs shows
// up in the map dump even when it never reaches the packet or the verdict.
//
// The verifier, not this generator, is the judge of validity: the generator keeps to what
// it usually accepts (checked packet ranges, null checks, initialised stack), and the test
// counts what it rejects. The C has no undefined behaviour: clang turns it into `undef`,
// may then leave stack bytes unwritten, and the kernel lets privileged programs read
// uninitialised stack (stale kernel data; our verifier refuses such reads). So C shifts
// are masked and C divisors made odd; shifts by any amount and division by a possible
// zero, whose eBPF results are defined, are written as inline assembly instead.

import { Rng } from './rng.js';

export type BpfCpu = 'v2' | 'v3';

export interface XdpSource {
  seed: number;
  /** clang's -mcpu: v3 adds 32-bit subregisters, jmp32 and the fetching atomics. */
  cpu: BpfCpu;
  /** The program's function (and section suffix) name. */
  name: string;
  source: string;
}

const NV = 6;
/** Hash map: u32 keys below 16 reach it, 8 entries at most (the rest fail with -E2BIG). */
const HASH_KEYS = 15;
/** Array map: 4 entries, keys up to 7 (half of them out of range). */
const ARRAY_KEYS = 7;

const HEADER = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct val { __u64 a; __u32 b; __u16 c; __u8 d[2]; };
struct outv { __u64 v[${NV}]; __u32 ret; __u32 calls; };

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } hmap SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, struct val); } amap SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct outv); } out SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
`;

const INTERESTING = [
  0n,
  1n,
  2n,
  3n,
  7n,
  8n,
  14n,
  31n,
  32n,
  63n,
  64n,
  0x7fn,
  0x80n,
  0xffn,
  0x100n,
  0x7fffn,
  0x8000n,
  0xffffn,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  0xffffffffffffffffn,
  0xfffffffffffffffen,
  0xffffffff00000000n,
  0x0123456789abcdefn,
];
const LOAD_TYPES = [
  ['__u8', 1],
  ['__u16', 2],
  ['__u32', 4],
  ['__u64', 8],
  ['__s8', 1],
  ['__s16', 2],
  ['__s32', 4],
] as const;
const STORE_TYPES = [
  ['__u8', 1],
  ['__u16', 2],
  ['__u32', 4],
  ['__u64', 8],
] as const;
const BIN64 = ['+', '-', '*', '&', '|', '^', '/', '%', '<<', '>>'] as const;
const CMP = ['==', '!=', '<', '<=', '>', '>='] as const;
const HEAD_DELTAS = [-300, -256, -216, -200, -100, -64, -14, -4, -1, 0, 1, 2, 14, 20, 34, 60, 100, 1000];
const TAIL_DELTAS = [-2000, -1000, -100, -40, -20, -1, 0, 1, 4, 20, 100, 500, 1000, 3000, 3800, 4000];
const META_DELTAS = [-64, -36, -32, -8, -4, -3, 0, 4, 8];

/** One program of the batch: `name` is its function and its section `xdp/<name>`. */
export function generateXdpSource(seed: number, name = `fuzz${seed}`): XdpSource {
  const rng = new Rng(seed);
  const cpu: BpfCpu = rng.chance(0.6) ? 'v3' : 'v2';
  // A subprogram (a BPF-to-BPF call) on scalars, which the program may call.
  const sub = new Body(rng, cpu).subprogram(rng.int(2, 8));
  const body = new Body(rng, cpu, true).program(rng.int(6, 28));
  const source = `${HEADER}\nstatic __attribute__((noinline)) __u64 sub(__u64 v0, __u64 v1)\n{\n${sub}}\n\nSEC("xdp") int ${name}(struct xdp_md *ctx)\n{\n${body}}\n`;
  return { seed, cpu, name, source };
}

class Body {
  private readonly lines: string[] = [];
  private indent = 1;
  private depth = 0;
  private loops = 0;

  constructor(
    private readonly rng: Rng,
    private readonly cpu: BpfCpu,
    private readonly calls = false,
  ) {}

  /** The subprogram's body: scalar statements only, over its two arguments and four locals. */
  subprogram(statements: number): string {
    const r = this.rng;
    for (let i = 2; i < NV; i++) this.line(`__u64 v${i} = ${r.chance(0.5) ? this.constant() : `v${r.below(2)} ^ ${this.constant()}`};`);
    for (let i = 0; i < statements; i++) {
      if (r.chance(0.8)) this.line(`${this.v()} = ${this.expr()};`);
      else this.asmOp();
    }
    // An opaque result: a return value clang can work out for every call site (IPSCCP) is
    // folded into the callers, and the subprogram then exits with r0 uninitialised.
    this.line(`__u64 res = ${this.expr()};`);
    this.line('asm volatile("" : "+r"(res));');
    this.line('return res;');
    return this.lines.join('\n') + '\n';
  }

  program(statements: number): string {
    const r = this.rng;
    this.line('void *data = (void *)(long)ctx->data;');
    this.line('void *data_end = (void *)(long)ctx->data_end;');
    this.line('__u8 sb[16] = {};');
    const inits = [() => this.constant(), () => 'ctx->ingress_ifindex', () => 'ctx->rx_queue_index', () => '(__u64)(data_end - data)'];
    for (let i = 0; i < NV; i++) this.line(`__u64 v${i} = ${r.chance(0.75) ? this.constant() : r.pick(inits)()};`);
    this.line(`__u32 ret = ${r.below(4)};`);
    this.line('__u64 calls = 0;');
    let checked = 0;
    for (let i = 0; i < statements; i++) checked = this.statement(checked);
    this.line('goto out;'); // keeps the label used whatever was generated
    this.lines.push('out:');
    this.line('{');
    this.line('  __u32 k0 = 0;');
    this.line('  struct outv *o = bpf_map_lookup_elem(&out, &k0);');
    this.line('  if (o) {');
    for (let i = 0; i < NV; i++) this.line(`    o->v[${i}] = v${i};`);
    this.line('    o->ret = ret;');
    this.line('    o->calls = (__u32)(calls ^ (calls >> 32));');
    this.line('  }');
    this.line('}');
    this.line('return ret;');
    return this.lines.join('\n') + '\n';
  }

  private line(text: string): void {
    this.lines.push('\t'.repeat(this.indent) + text);
  }

  private v(): string {
    return `v${this.rng.below(NV)}`;
  }

  private constant(): string {
    const r = this.rng;
    const value = r.weighted<() => bigint>([
      [() => r.pick(INTERESTING), 5],
      [() => BigInt(r.u32()), 2],
      [() => r.u64(), 2],
      [() => BigInt(r.below(64)), 3],
    ])();
    return `0x${value.toString(16)}ULL`;
  }

  private leaf(): string {
    return this.rng.chance(0.7) ? this.v() : this.constant();
  }

  /** An expression of type __u64 over the scalars. */
  private expr(depth = 0): string {
    const r = this.rng;
    if (depth >= 2 || r.chance(0.25)) return this.leaf();
    const e = (): string => this.expr(depth + 1);
    switch (r.below(9)) {
      case 0:
      case 1:
      case 2: {
        const op = r.pick(BIN64);
        const right = e();
        if (op === '<<' || op === '>>') return `(${e()} ${op} (${right} & 63))`;
        if (op === '/' || op === '%') return `(${e()} ${op} (${right} | 1))`;
        return `(${e()} ${op} ${right})`;
      }
      case 3: {
        // 32-bit
        const op = r.pick(BIN64);
        const right = `(__u32)${e()}`;
        if (op === '<<' || op === '>>') return `(__u64)((__u32)${e()} ${op} (${right} & 31))`;
        if (op === '/' || op === '%') return `(__u64)((__u32)${e()} ${op} (${right} | 1))`;
        return `(__u64)((__u32)${e()} ${op} ${right})`;
      }
      case 4: // arithmetic shifts
        return r.chance(0.5) ? `(__u64)((__s64)${e()} >> (${e()} & 63))` : `(__u64)(__u32)((__s32)${e()} >> (${e()} & 31))`;
      case 5:
        return r.pick([
          `(~${e()})`,
          `(-${e()})`,
          `(__u64)(__u32)${e()}`,
          `(__u64)(__s32)${e()}`,
          `(__u64)(__s16)${e()}`,
          `(__u64)(__s8)${e()}`,
          `(__u64)(__u16)${e()}`,
          `(__u64)(__u8)${e()}`,
        ]);
      case 6:
        return r.pick([`(__u64)__builtin_bswap16((__u16)${e()})`, `(__u64)__builtin_bswap32((__u32)${e()})`, `__builtin_bswap64(${e()})`]);
      case 7:
        return `(__u64)${this.cond(depth + 1)}`;
      default:
        return `(${this.cond(depth + 1)} ? ${e()} : ${e()})`;
    }
  }

  /** A comparison (unsigned or signed, 64 or 32 bits) or a bit test. */
  private cond(depth = 1): string {
    const r = this.rng;
    const a = this.expr(depth + 1);
    const b = r.chance(0.5) ? this.constant() : this.expr(depth + 1);
    if (r.chance(0.1)) return `((${a} & ${b}) != 0)`;
    const cast = r.pick(['', '(__s64)', '(__u32)', '(__s32)']);
    return `(${cast}${a} ${r.pick(CMP)} ${cast}${b})`;
  }

  /** One statement; `checked` is how many packet bytes from data are known to be there. Returns it after. */
  private statement(checked: number): number {
    const r = this.rng;
    const nested = this.depth < 3;
    const kind = r.weighted<string>([
      ['assign', 10],
      ['load', 6],
      ['store', 4],
      ['varload', 2],
      ['varstore', 2],
      ['guard', 2],
      ['verdict', 1],
      ['if', nested ? 3 : 0],
      ['loop', nested && this.loops < 2 ? 1 : 0],
      ['hash', 3],
      ['array', 3],
      ['csum', 1.5],
      ['adjust', 1.5],
      ['bytes', 1],
      ['stack', 1.5],
      ['bufflen', 0.3],
      ['asm', 1.5],
      ['call', this.calls ? 1 : 0],
    ]);
    switch (kind) {
      case 'assign':
        this.line(`${this.v()} = ${this.expr()};`);
        return checked;
      case 'load':
        return this.packetLoad(checked);
      case 'store':
        return this.packetStore(checked);
      case 'varload':
      case 'varstore':
        this.variableAccess(kind === 'varstore');
        return checked;
      case 'guard': {
        const n = this.packetOffset() + r.int(1, 8);
        this.line(`if (data + ${n} > data_end) { ret = ${r.below(4)}; goto out; }`);
        return Math.max(checked, n);
      }
      case 'verdict':
        this.line(`if ${this.cond()} { ret = ${r.chance(0.5) ? `${this.v()} & 3` : r.below(4)}; goto out; }`);
        return checked;
      case 'if':
        return this.ifElse(checked);
      case 'loop':
        return this.loop();
      case 'hash':
        this.hashOp();
        return checked;
      case 'array':
        this.arrayOp();
        return checked;
      case 'csum':
        this.csum(checked);
        return checked;
      case 'adjust':
        this.adjust();
        return 0;
      case 'bytes':
        this.loadStoreBytes();
        return checked;
      case 'stack':
        this.stackOp();
        return checked;
      case 'asm':
        this.asmOp();
        return checked;
      case 'call':
        // Every result reaches the map: when no caller used it, clang would let the
        // subprogram return an uninitialised r0, which the kernel accepts and our verifier
        // does not (reported; see the fuzzer's test file). The subprogram's opaque result
        // (see subprogram()) is the other half of keeping r0 set.
        this.line(`calls ^= sub(${this.expr(1)}, ${this.v()});`);
        return checked;
      default:
        this.line(`${this.v()} = bpf_xdp_get_buff_len(ctx);`);
        return checked;
    }
  }

  /** Offsets mostly within the smallest frames, sometimes beyond the larger ones. */
  private packetOffset(): number {
    const r = this.rng;
    return r.weighted<() => number>([
      [() => r.below(40), 6],
      [() => r.below(128), 3],
      [() => r.int(100, 1600), 1],
    ])();
  }

  /** `body` runs when [off, off+size) is in the packet: unguarded when an earlier guard covers it. */
  private inRange(checked: number, off: number, size: number, body: string): void {
    if (off + size <= checked && this.rng.chance(0.8)) this.line(body);
    else this.line(`if (data + ${off + size} <= data_end) { ${body} }`);
  }

  private packetLoad(checked: number): number {
    const r = this.rng;
    const [type, size] = r.pick(LOAD_TYPES);
    const off = r.chance(0.5) && checked > 0 ? r.below(checked) : this.packetOffset();
    const load = `*(${type} *)(data + ${off})`;
    const swap = size > 1 && type.startsWith('__u') && r.chance(0.25) ? `__builtin_bswap${size * 8}(${load})` : load;
    this.inRange(checked, off, size, `${this.v()} = (__u64)${swap};`);
    return checked;
  }

  private packetStore(checked: number): number {
    const r = this.rng;
    const [type, size] = r.pick(STORE_TYPES);
    const off = r.chance(0.5) && checked > 0 ? r.below(checked) : this.packetOffset();
    const value = size > 1 && r.chance(0.25) ? `__builtin_bswap${size * 8}((${type})${this.expr(1)})` : `(${type})${this.expr(1)}`;
    this.inRange(checked, off, size, `*(${type} *)(data + ${off}) = ${value};`);
    return checked;
  }

  /** A load or store at a variable (masked) offset, checked on its own. */
  private variableAccess(store: boolean): void {
    const r = this.rng;
    const [type, size] = store ? r.pick(STORE_TYPES) : r.pick(LOAD_TYPES);
    const mask = r.pick([7, 15, 63, 255, 1023]);
    const access = store ? `*(${type} *)(data + o) = (${type})${this.expr(1)};` : `${this.v()} = (__u64)*(${type} *)(data + o);`;
    this.line(`{ __u64 o = ${this.v()} & ${mask}; if (data + o + ${size} <= data_end) { ${access} } }`);
  }

  private nestedBlock(checked: number, statements: number): number {
    this.indent++;
    this.depth++;
    for (let i = 0; i < statements; i++) checked = this.statement(checked);
    this.depth--;
    this.indent--;
    return checked;
  }

  private ifElse(checked: number): number {
    const r = this.rng;
    this.line(`if ${this.cond()} {`);
    const then = this.nestedBlock(checked, r.int(1, 4));
    if (r.chance(0.5)) {
      this.line('} else {');
      const otherwise = this.nestedBlock(checked, r.int(1, 4));
      this.line('}');
      return Math.min(then, otherwise);
    }
    this.line('}');
    return Math.min(checked, then);
  }

  /** A bounded loop: a constant trip count, or one taken from a scalar (maybe zero). */
  private loop(): number {
    const r = this.rng;
    const i = `i${this.loops}`;
    const bound = r.chance(0.6) ? `${r.int(1, 6)}` : `(${this.v()} & 7)`;
    if (r.chance(0.5)) this.line('#pragma clang loop unroll(disable)');
    this.line(`for (__u32 ${i} = 0; ${i} < ${bound}; ${i}++) {`);
    this.loops++;
    if (r.chance(0.5)) this.line(`\t${this.v()} ^= ${i};`); // not +=: clang sums that in closed form with a 128-bit multiply
    // A later iteration may follow an adjust in an earlier one: no packet range is known
    // at the top of the body, nor (the body may run zero times) after the loop.
    this.nestedBlock(0, r.int(1, 4));
    this.loops--;
    this.line('}');
    return 0;
  }

  private key(limit: number): string {
    return this.rng.chance(0.7) ? `(__u32)(${this.v()} & ${limit})` : `${this.rng.below(limit + 1)}`;
  }

  /** An atomic operation on `*p` (a u64 or u32 lvalue pointer), or a plain read/write. */
  private access(ptr: string, type: '__u64' | '__u32' | '__u16' | '__u8'): string {
    const r = this.rng;
    const val = `(${type})${this.expr(1)}`;
    // 32-bit atomics need -mcpu=v3 (alu32).
    const atomic = type === '__u64' || (type === '__u32' && this.cpu === 'v3');
    const ops: string[] = [`${this.v()} = *${ptr};`, `*${ptr} = ${val};`, `*${ptr} += ${val};`];
    if (atomic) ops.push(`__sync_fetch_and_add(${ptr}, ${val});`);
    if (atomic && this.cpu === 'v3') {
      ops.push(
        `${this.v()} = __sync_fetch_and_add(${ptr}, ${val});`,
        `__sync_fetch_and_or(${ptr}, ${val});`,
        `${this.v()} = __sync_fetch_and_and(${ptr}, ${val});`,
        `${this.v()} = __sync_fetch_and_xor(${ptr}, ${val});`,
        `${this.v()} = __sync_lock_test_and_set(${ptr}, ${val});`,
        `${this.v()} = __sync_val_compare_and_swap(${ptr}, (${type})${this.leaf()}, ${val});`,
      );
    }
    return r.pick(ops);
  }

  private hashOp(): void {
    const r = this.rng;
    const k = this.key(HASH_KEYS);
    switch (r.below(4)) {
      case 0:
      case 1: {
        const then = [this.access('p', '__u64'), ...(r.chance(0.3) ? [this.access('p', '__u64')] : [])].join(' ');
        const otherwise = r.chance(0.5) ? ` else { ${this.v()} = ${this.constant()}; }` : '';
        this.line(`{ __u32 k = ${k}; __u64 *p = bpf_map_lookup_elem(&hmap, &k); if (p) { ${then} }${otherwise} }`);
        return;
      }
      case 2: {
        const flags = r.pick(['BPF_ANY', 'BPF_NOEXIST', 'BPF_EXIST', 'BPF_ANY', '4', '8']);
        this.line(`{ __u32 k = ${k}; __u64 nv = ${this.expr(1)}; ${this.v()} = bpf_map_update_elem(&hmap, &k, &nv, ${flags}); }`);
        return;
      }
      default:
        this.line(`{ __u32 k = ${k}; ${this.v()} = bpf_map_delete_elem(&hmap, &k); }`);
    }
  }

  private arrayOp(): void {
    const r = this.rng;
    const k = this.key(ARRAY_KEYS);
    switch (r.below(4)) {
      case 0:
      case 1: {
        const field = r.pick([
          ['&p->a', '__u64'],
          ['&p->b', '__u32'],
          ['&p->c', '__u16'],
          [`&p->d[${r.below(2)}]`, '__u8'],
        ] as const);
        const then = this.access(`(${field[0]})`, field[1]);
        this.line(`{ __u32 k = ${k}; struct val *p = bpf_map_lookup_elem(&amap, &k); if (p) { ${then} } }`);
        return;
      }
      case 2: {
        const flags = r.pick(['BPF_ANY', 'BPF_NOEXIST', 'BPF_EXIST', 'BPF_ANY', '4']);
        const init = `{ ${this.expr(1)}, (__u32)${this.leaf()}, (__u16)${this.leaf()}, { (__u8)${this.leaf()}, ${r.below(256)} } }`;
        this.line(`{ __u32 k = ${k}; struct val nv = ${init}; ${this.v()} = bpf_map_update_elem(&amap, &k, &nv, ${flags}); }`);
        return;
      }
      default:
        this.line(`{ __u32 k = ${k}; ${this.v()} = bpf_map_delete_elem(&amap, &k); }`);
    }
  }

  /** bpf_csum_diff over stack words, or with packet bytes as `from`. */
  private csum(checked: number): void {
    const r = this.rng;
    const words = `{ ${Array.from({ length: 4 }, () => `(__u32)${this.leaf()}`).join(', ')} }`;
    const from = r.below(5) * 4;
    const to = r.below(5) * 4;
    const seed = r.chance(0.5) ? '0' : `(__u32)${this.v()}`;
    if (r.chance(0.35)) {
      const off = r.below(40);
      const size = r.int(1, 5) * 4;
      const call = `${this.v()} = bpf_csum_diff((__be32 *)(data + ${off}), ${size}, w, ${to}, ${seed});`;
      this.line(`{ __u32 w[4] = ${words}; ${off + size <= checked ? call : `if (data + ${off + size} <= data_end) { ${call} }`} }`);
      return;
    }
    this.line(
      `{ __u32 f[4] = ${words}; __u32 w[4] = { (__u32)${this.leaf()}, (__u32)${this.leaf()}, 0, 1 }; ${this.v()} = bpf_csum_diff(f, ${from}, w, ${to}, ${seed}); }`,
    );
  }

  /** xdp_adjust_head/tail/meta by a constant or a scalar's delta; data pointers re-loaded after. */
  private adjust(): void {
    const r = this.rng;
    const [helper, deltas] = r.weighted<readonly [string, number[]]>([
      [['bpf_xdp_adjust_head', HEAD_DELTAS], 3],
      [['bpf_xdp_adjust_tail', TAIL_DELTAS], 3],
      [['bpf_xdp_adjust_meta', META_DELTAS], 1],
    ]);
    const delta = r.chance(0.8) ? `${r.pick(deltas)}` : `(int)(${this.v()} & 127) - 64`;
    this.line(`${this.v()} = ${helper}(ctx, ${delta});`);
    this.line('data = (void *)(long)ctx->data;');
    this.line('data_end = (void *)(long)ctx->data_end;');
    if (helper === 'bpf_xdp_adjust_meta' && r.chance(0.7)) {
      // Read or write the metadata when there is some.
      const access = r.chance(0.5) ? `${this.v()} = *(__u32 *)meta;` : `*(__u32 *)meta = (__u32)${this.expr(1)};`;
      this.line(`{ void *meta = (void *)(long)ctx->data_meta; if (meta + 4 <= data) { ${access} } }`);
    }
  }

  /** xdp_load_bytes into / xdp_store_bytes from a zeroed stack buffer. */
  private loadStoreBytes(): void {
    const r = this.rng;
    // Offsets around 3520, where a jumbo frame's linear area ends and its fragments begin.
    const off = r.weighted<() => string>([
      [() => `${this.packetOffset()}`, 7],
      [() => `(__u32)(${this.v()} & 255)`, 2],
      [() => `${r.int(3500, 3540)}`, 1],
      [() => `(__u32)${this.v()}`, 0.5],
    ])();
    const len = r.int(1, 16);
    if (r.chance(0.5)) {
      this.line(
        `{ __u8 b[16] = {}; ${this.v()} = bpf_xdp_load_bytes(ctx, ${off}, b, ${len}); ${this.v()} = *(__u64 *)&b[${r.pick([0, 8])}]; }`,
      );
    } else {
      this.line(`{ __u64 b[2] = { ${this.expr(1)}, ${this.leaf()} }; ${this.v()} = bpf_xdp_store_bytes(ctx, ${off}, b, ${len}); }`);
    }
  }

  /** 64-bit division, modulo and shifts by unrestricted operands, out of C's reach. */
  private asmOp(): void {
    // No modulo: clang 14's eBPF assembler does not parse `%=`.
    const op = this.rng.pick(['/=', '<<=', '>>=', 's>>=']);
    this.line(`asm volatile("%[d] ${op} %[s]" : [d] "+r"(${this.v()}) : [s] "r"(${this.v()}));`);
  }

  /** Stack bytes at variable offsets. */
  private stackOp(): void {
    const r = this.rng;
    if (r.chance(0.5)) this.line(`sb[${this.v()} & 15] = (__u8)${this.expr(1)};`);
    else if (r.chance(0.5)) this.line(`${this.v()} = sb[${this.v()} & 15];`);
    else this.line(`${this.v()} = *(__u64 *)&sb[${r.pick([0, 8])}];`);
  }
}
