// bpf_trace_printk's format language, checked and filled in as the kernel does it
// (kernel/bpf/helpers.c, bpf_bprintf_prepare, then vsnprintf):
//  - the format must hold a NUL within the size given, and only printable ASCII or
//    whitespace before it;
//  - at most three conversions; each is "%" [0 +-]* [width] then one of
//    d i u x X (with l or ll), c, s, or a pointer form: p, pK, px, ps, pS, pB, pks, pus,
//    pI4, pi4, pI6, pi6;
//  - %s (and %pks / %pus) must be followed by the end, whitespace or punctuation;
//  - anything else — a precision, %f, %hd, %lll, a trailing %, an unknown %p form — makes
//    the helper return -EINVAL and print nothing.
// Plain %p (and %pK, with kptr_restrict 0) prints a pointer hashed with a boot-time key;
// ours hashes with a per-process key, so only the shape (16 hex digits, 8 of them leading
// zeros) matches the kernel. NULL prints as sixteen zeros, as the kernel's does.

const MAX_ARGS = 3;
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPrint = (c: number): boolean => c >= 0x20 && c <= 0x7e;
const isPunct = (c: number): boolean => isPrint(c) && c !== 0x20 && !/[0-9A-Za-z]/.test(String.fromCharCode(c));
const ch = (s: string): number => s.charCodeAt(0);

/** A conversion as parsed: its flags and width, and what it prints. */
interface Spec {
  flags: string;
  width: number;
  kind: 'int' | 'char' | 'string' | 'pointer';
  conv: string;
  wide: boolean;
}

const HASH_KEY = BigInt(Math.floor(Math.random() * 2 ** 32)) | 1n;

function hashedPointer(v: bigint): string {
  if (v === 0n) return '0'.repeat(16);
  // 32 bits of a keyed mix, printed zero-padded to a 64-bit pointer's width.
  let h = (v ^ HASH_KEY) * 0x9e3779b97f4a7c15n;
  h ^= h >> 29n;
  return (h & 0xffffffffn).toString(16).padStart(16, '0');
}

function cString(mem: Uint8Array, at: number): string {
  const end = mem.indexOf(0, at);
  return new TextDecoder().decode(mem.subarray(at, end < 0 ? at : end));
}

function ipText(conv: string, mem: Uint8Array, at: number): string {
  const hex2 = (b: number): string => b.toString(16).padStart(2, '0');
  if (conv.endsWith('4')) {
    const b = [...mem.subarray(at, at + 4)];
    return b.map((x) => (conv === 'pi4' ? String(x).padStart(3, '0') : String(x))).join('.');
  }
  const b = [...mem.subarray(at, at + 16)];
  if (conv === 'pi6') return b.map(hex2).join('');
  return Array.from({ length: 8 }, (_, i) => hex2(b[2 * i]!) + hex2(b[2 * i + 1]!)).join(':');
}

function render(spec: Spec, raw: bigint, mem: Uint8Array): string {
  const v = spec.wide ? raw : raw & 0xffffffffn;
  let sign = '';
  let body: string;
  switch (spec.kind) {
    case 'char':
      body = String.fromCharCode(Number(raw & 0xffn));
      break;
    case 'string':
      body = cString(mem, Number(raw & 0xffffffffn));
      break;
    case 'pointer':
      if (spec.conv === 'px') body = raw.toString(16).padStart(16, '0');
      else if (/^p[iI][46]$/.test(spec.conv)) body = ipText(spec.conv, mem, Number(raw & 0xffffffffn));
      else if (spec.conv === 'ps' || spec.conv === 'pS' || spec.conv === 'pB') body = `0x${raw.toString(16)}`;
      else body = hashedPointer(raw);
      break;
    default:
      if (spec.conv === 'd' || spec.conv === 'i') {
        const n = spec.wide ? BigInt.asIntN(64, v) : BigInt.asIntN(32, v);
        // As vsnprintf: '+' or ' ' only give non-negative signed numbers a sign.
        sign = n < 0n ? '-' : spec.flags.includes('+') ? '+' : spec.flags.includes(' ') ? ' ' : '';
        body = String(n < 0n ? -n : n);
      } else if (spec.conv === 'u') body = String(v);
      else body = spec.conv === 'X' ? v.toString(16).toUpperCase() : v.toString(16);
  }
  const pad = Math.max(0, spec.width - sign.length - body.length);
  if (spec.flags.includes('-')) return sign + body + ' '.repeat(pad);
  // Zero padding goes between the sign and the digits, and only for numbers.
  if (spec.flags.includes('0') && spec.kind === 'int') return sign + '0'.repeat(pad) + body;
  return ' '.repeat(pad) + sign + body;
}

/**
 * The line bpf_trace_printk prints for format bytes `fmt` (the `size` bytes the program
 * passed) and its three arguments, or undefined where the kernel returns -EINVAL.
 */
export function formatPrintk(fmt: Uint8Array, args: readonly bigint[], mem: Uint8Array): string | undefined {
  const nul = fmt.indexOf(0);
  if (nul < 0) return undefined;
  const f = String.fromCharCode(...fmt.subarray(0, nul));
  // Past the end reads as NUL, as the kernel's scan of its terminated copy does.
  const at = (i: number): number => (i < f.length ? f.charCodeAt(i) : 0);
  let out = '';
  let used = 0;
  for (let i = 0; i < f.length; i++) {
    const c = at(i);
    if (!isPrint(c) && !isSpace(c)) return undefined;
    if (c !== ch('%')) {
      out += f[i];
      continue;
    }
    if (at(i + 1) === ch('%')) {
      out += '%';
      i++;
      continue;
    }
    if (used >= MAX_ARGS) return undefined;
    i++;
    let flags = '';
    while (i < f.length && '0+- '.includes(f[i]!)) flags += f[i++];
    let width = 0;
    if (at(i) >= ch('1') && at(i) <= ch('9')) {
      const digits = /^\d+/.exec(f.slice(i))![0];
      width = Number(digits);
      i += digits.length;
    }
    const spec = ((): Spec | undefined => {
      const endsString = (j: number): boolean => at(j) === 0 || isSpace(at(j)) || isPunct(at(j));
      if (f[i] === 'p') {
        const n = f[i + 1] ?? '';
        if (endsString(i + 1)) return { flags, width, kind: 'pointer', conv: 'p', wide: true };
        if ((n === 'k' || n === 'u') && f[i + 2] === 's') {
          i += 2;
          return endsString(i + 1) ? { flags, width, kind: 'string', conv: 's', wide: true } : undefined;
        }
        if ('KxsSB'.includes(n)) {
          i++;
          return { flags, width, kind: 'pointer', conv: `p${n}`, wide: true };
        }
        if ((n === 'i' || n === 'I') && (f[i + 2] === '4' || f[i + 2] === '6')) {
          i += 2;
          return { flags, width, kind: 'pointer', conv: `p${n}${f[i]}`, wide: true };
        }
        return undefined;
      }
      if (f[i] === 's') return endsString(i + 1) ? { flags, width, kind: 'string', conv: 's', wide: true } : undefined;
      if (f[i] === 'c') return { flags, width, kind: 'char', conv: 'c', wide: false };
      let wide = false;
      if (f[i] === 'l') {
        wide = true;
        i++;
      }
      if (f[i] === 'l') i++;
      const conv = f[i] ?? '';
      return conv !== '' && 'diuxX'.includes(conv) ? { flags, width, kind: 'int', conv, wide } : undefined;
    })();
    if (!spec) return undefined;
    out += render(spec, args[used++] ?? 0n, mem);
  }
  return out;
}
