// Reader for the eBPF ISA conformance vectors (Alan-Jowett/bpf_conformance, `tests/*.data`),
// kept beside the project in ../shared/bpf_conformance/tests (override: BPF_CONFORMANCE_DIR).
//
// A vector is a text file of sections, each opened by a line `-- <name>`; lines before the
// first section (licence header) are ignored. What upstream's runner does with them:
//
// - `-- asm`     the program, assembled with compiler/asm.ts (see `vectorInsns`).
// - `-- raw`     the program as 64-bit instruction words (`0x5566778800000018`, the low byte
//                is the opcode); when present upstream runs these words INSTEAD of the asm.
//                Upstream's negative tests also write raw as 8 hex bytes per line
//                (`07 00 01 00 01 00 00 00`); both forms are read here.
// - `-- mem`     hex bytes of the input memory. The program starts with r1 = its address
//                and r2 = its length (upstream's kernel plugin builds an XDP prolog for
//                that); without mem both are 0 and memory is empty.
// - `-- result`  the expected r0 at exit, hex (`0x...`) or decimal, as a u64.
// - `-- error`   the program is expected NOT to produce a result: the runtime (plugin) must
//                fail — reject it at load/verify time or abort at run time — and its error
//                text is compared with this line. Our runtime's messages are our own, so a
//                harness should treat `error` as "must be rejected or fault", not compare
//                text. None of the 313 vectors here has one (upstream keeps such files in
//                its separate `negative/` directory, e.g. `or %r0, %r10` / "Invalid").
// - `-- no register offset`  uBPF-specific: its JIT tests are also run with the registers
//                remapped at an offset; vectors that call helpers (text: "call instruction")
//                opt out of that mode. Upstream's runner ignores the section; so may we.
// - `-- c`       the C source a vector was compiled from; documentation only.
//
// Test helpers: `call 5` (call_unwind_fail.data) and `call %r2` with r2 = 5 (callx.data,
// a register-indirect call, opcode 0x8d, register in dst) call helper id 5. In uBPF's test
// harness helper 5 is "unwind": it returns its argument r1, and when that value is 0 the VM
// stops the program at once and returns 0 (stack unwinding). Both vectors pass r1 = -1,
// so nothing unwinds and execution continues to `mov %r0, 2; exit` → result 2. In the
// kernel, helper 5 is bpf_ktime_get_ns (a result that these vectors overwrite). A runtime
// that provides any helper 5 leaving r6-r9 and memory alone, and that resolves callx to the
// helper whose id is in the register, passes them; one without callx should SKIP callx.
// mem-len.data reads r2 and expects 8 (the mem length). exit-not-last.data, ja32.data and
// others jump to the label `exit`, which upstream's assembler defines as the first `exit`.

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../../compiler/asm.js';
import { decode, type Insn } from '../../core/isa.js';

export interface Vector {
  /** File name without `.data`, e.g. `lock_xchg32`. */
  name: string;
  path: string;
  /** The `-- asm` section as written (comments included; the assembler strips them). */
  asm: string;
  /** Input memory (empty when the vector has no `-- mem`). */
  mem: Uint8Array;
  /** Expected r0 as an unsigned 64-bit value. */
  result?: bigint;
  /** Expected failure text; present when the program must be rejected or fail. */
  error?: string;
  /** Instruction words of `-- raw`, each the little-endian u64 of one slot. */
  raw?: bigint[];
  /** Text of `-- no register offset` (uBPF: skip the register-offset JIT mode). */
  noRegisterOffset?: string;
  /** The C source of `-- c`, when the vector was compiled from C. */
  c?: string;
}

/** Directory of the `*.data` files. */
export function vectorDir(): string {
  if (process.env.BPF_CONFORMANCE_DIR) return resolve(process.env.BPF_CONFORMANCE_DIR);
  // Walk up from this file (src or dist) to the checkout holding package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return resolve(dir, '..', 'shared', 'bpf_conformance', 'tests');
}

/** Paths of every vector, sorted by name. */
export function listVectors(dir: string = vectorDir()): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.data'))
    .sort()
    .map((f) => join(dir, f));
}

export function readVector(path: string): Vector {
  return parseVector(readFileSync(path, 'utf8'), path);
}

/** Parse the text of a vector file; `path` only names it. */
export function parseVector(text: string, path = 'vector.data'): Vector {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^--\s+(\S.*?)\s*$/.exec(line);
    if (header) {
      current = [];
      sections.set(header[1]!.toLowerCase(), current);
    } else if (current) {
      current.push(line);
    }
  }
  const body = (name: string): string | undefined => sections.get(name)?.join('\n');
  const tokens = (name: string): string[] | undefined =>
    sections
      .get(name)
      ?.flatMap((l) => uncomment(l).split(/\s+/))
      .filter((t) => t !== '');

  const where = basename(path);
  const vector: Vector = {
    name: where.replace(/\.data$/, ''),
    path,
    asm: body('asm') ?? '',
    mem: Uint8Array.from((tokens('mem') ?? []).map((t) => hexByte(t, where))),
  };
  const result = tokens('result');
  if (result && result.length > 0) vector.result = BigInt.asUintN(64, parseNumber(result[0]!, where));
  const error = sections.get('error');
  if (error)
    vector.error = error
      .map(uncomment)
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .join('\n');
  const raw = sections.get('raw');
  if (raw) vector.raw = raw.flatMap((line) => rawWords(uncomment(line), where));
  const noRegisterOffset = body('no register offset');
  if (noRegisterOffset !== undefined) vector.noRegisterOffset = noRegisterOffset.trim();
  const c = body('c');
  if (c !== undefined) vector.c = c;
  return vector;
}

/** The program a runner should execute: the raw words if present (as upstream), else the asm. */
export function vectorInsns(v: Vector): Insn[] {
  return v.raw ? decode(rawBytes(v.raw)) : assemble(v.asm);
}

/** Encode `-- raw` words as the program image (each word little-endian). */
export function rawBytes(words: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(words.length * 8);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setBigUint64(i * 8, w, true));
  return out;
}

const uncomment = (line: string): string => line.replace(/#.*/, '');

function parseNumber(token: string, where: string): bigint {
  if (!/^(0x[0-9a-f]+|-?\d+)$/i.test(token)) throw new Error(`${where}: bad number '${token}'`);
  return BigInt(token);
}

function hexByte(token: string, where: string): number {
  if (!/^(0x)?[0-9a-f]{1,2}$/i.test(token)) throw new Error(`${where}: bad mem byte '${token}'`);
  return parseInt(token.replace(/^0x/i, ''), 16);
}

/** One raw line: 8 bare hex bytes (one slot), or whitespace-separated u64 words. */
function rawWords(line: string, where: string): bigint[] {
  const t = line
    .trim()
    .split(/\s+/)
    .filter((s) => s !== '');
  if (t.length === 8 && t.every((s) => /^[0-9a-f]{2}$/i.test(s))) {
    const bytes = Uint8Array.from(t.map((s) => parseInt(s, 16)));
    return [new DataView(bytes.buffer).getBigUint64(0, true)];
  }
  return t.map((s) => BigInt.asUintN(64, parseNumber(s, where)));
}
