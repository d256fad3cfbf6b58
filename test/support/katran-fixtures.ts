// Reads katran_tester's packet fixtures from katran's own source (the C++ headers under
// katran/lib/testing/fixtures/), so the repository carries none of them. A fixture is a
// designated initializer — description, expected XDP verdict, and an input and an expected
// output packet written as PacketBuilder chains (base64 strings in older katran). This
// file evaluates exactly the C++ such headers use — literals, enum constants, `|`, brace
// lists, `std::vector<uint8_t>{...}`, `std::string(p, n)`, method chains — with
// katran-packet-builder.ts standing in for the C++ builder.
//
// One C++ detail matters for the bytes: a string literal handed to a `std::string`
// parameter stops at its first NUL ("quic data\x00@" is "quic data"), while
// `std::string("\x00", 1)` keeps its length.

import { PacketBuilder, PacketBuilderError, QuicBuilder, QUIC_V1_WIRE_FORMAT } from './katran-packet-builder.js';

export interface KatranFixture {
  /** 1-based, as katran_tester numbers them. */
  number: number;
  description: string;
  expectedReturnValue: string;
  input: Uint8Array;
  expectedOutput: Uint8Array;
}

export class FixtureError extends Error {}

type Token =
  { kind: 'str'; bytes: number[] } | { kind: 'num'; value: number } | { kind: 'id'; name: string } | { kind: 'punct'; text: string };

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 10,
  t: 9,
  r: 13,
  '0': 0,
  '\\': 92,
  '"': 34,
  "'": 39,
  a: 7,
  b: 8,
  f: 12,
  v: 11,
  '?': 63,
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (text.startsWith('//', i)) {
      i = text.indexOf('\n', i);
      if (i < 0) break;
      continue;
    }
    if (text.startsWith('/*', i)) {
      i = text.indexOf('*/', i + 2) + 2;
      if (i < 2) break;
      continue;
    }
    if (c === '#') {
      i = text.indexOf('\n', i);
      if (i < 0) break;
      continue;
    }
    if (c === '"') {
      const bytes: number[] = [];
      i++;
      while (text[i] !== '"') {
        if (i >= text.length) throw new FixtureError('unterminated string literal');
        if (text[i] === '\\') {
          const e = text[i + 1]!;
          if (e === 'x') {
            // A hex escape takes every hex digit that follows.
            let j = i + 2;
            while (/[0-9a-fA-F]/.test(text[j] ?? '')) j++;
            bytes.push(parseInt(text.slice(i + 2, j), 16) & 0xff);
            i = j;
          } else if (/[0-7]/.test(e)) {
            let j = i + 1;
            while (j < i + 4 && /[0-7]/.test(text[j] ?? '')) j++;
            bytes.push(parseInt(text.slice(i + 1, j), 8) & 0xff);
            i = j;
          } else {
            const v = SIMPLE_ESCAPES[e];
            if (v === undefined) throw new FixtureError(`unknown escape \\${e} in a string literal`);
            bytes.push(v);
            i += 2;
          }
        } else {
          bytes.push(...Buffer.from(text[i]!, 'utf8'));
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'str', bytes });
      continue;
    }
    const num = /^(0[xX][0-9a-fA-F]+|\d+)[uUlL]*/.exec(text.slice(i, i + 40));
    if (num) {
      tokens.push({ kind: 'num', value: Number(num[1]) });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*/.exec(text.slice(i, i + 200));
    if (id) {
      tokens.push({ kind: 'id', name: id[0] });
      i += id[0].length;
      continue;
    }
    tokens.push({ kind: 'punct', text: c });
    i++;
  }
  return tokens;
}

/** Values of the C++ expressions fixtures use. */
type Value =
  | { kind: 'str'; bytes: number[]; sized: boolean } // sized: std::string(p, n), keeps NULs
  | { kind: 'num'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'list'; items: Value[] }
  | { kind: 'builder'; builder: PacketBuilder }
  | { kind: 'quic'; quic: QuicBuilder }
  | { kind: 'fields'; fields: Map<string, Value> };

/** Named constants of katran's builder and netinet/tcp.h, by their last `::` component. */
const CONSTANTS: Record<string, number> = {
  TH_FIN: 0x01,
  TH_SYN: 0x02,
  TH_RST: 0x04,
  TH_PUSH: 0x08,
  TH_ACK: 0x10,
  TH_URG: 0x20,
  QUIC_V1_WIRE_FORMAT,
  CID_V1: 1,
  CID_V2: 2,
  IP_FLAG_MF: 0x20,
  IP_FLAG_DF: 0x40,
  IPV6_NH_FRAGMENT: 44,
  ARP_REQUEST: 1,
  ARP_REPLY: 2,
  NO_CODE: 0,
  FRAG_NEEDED: 4,
};
/** Constants whose value depends on the enum they are in. */
const SCOPED: Record<string, number> = {
  'ICMPv4Header::ECHO_REPLY': 0,
  'ICMPv4Header::DEST_UNREACH': 3,
  'ICMPv4Header::ECHO_REQUEST': 8,
  'ICMPv6Header::ECHO_REQUEST': 128,
  'ICMPv6Header::ECHO_REPLY': 129,
  'ICMPv6Header::PACKET_TOO_BIG': 2,
};

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }
  private isPunct(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.kind === 'punct' && t.text === text;
  }
  private expect(text: string): void {
    if (!this.isPunct(text)) throw new FixtureError(`expected '${text}' at token ${this.pos}, found ${JSON.stringify(this.peek())}`);
    this.pos++;
  }

  /** Moves to just after `<name> = {`; false if the name is not declared. */
  seekArray(name: string): boolean {
    for (let i = 0; i + 2 < this.tokens.length; i++) {
      const t = this.tokens[i]!;
      if (
        t.kind === 'id' &&
        t.name === name &&
        this.tokens[i + 1]?.kind === 'punct' &&
        (this.tokens[i + 1] as { text: string }).text === '='
      ) {
        this.pos = i + 2;
        this.expect('{');
        return true;
      }
    }
    return false;
  }

  /** The next item of a comma-separated list ending at `close`; undefined (past `close`) at its end. */
  private item(close: string): Value | undefined {
    if (this.isPunct(close)) {
      this.pos++;
      return undefined;
    }
    const v = this.expression();
    if (this.isPunct(',')) this.pos++;
    return v;
  }

  private list(close: string): Value[] {
    const out: Value[] = [];
    for (let v = this.item(close); v !== undefined; v = this.item(close)) out.push(v);
    return out;
  }

  /** One element of the array the parser is inside, or undefined at its closing brace. */
  nextElement(): Value | undefined {
    return this.item('}');
  }

  expression(): Value {
    let left = this.postfix();
    while (this.isPunct('|')) {
      this.pos++;
      const right = this.postfix();
      left = { kind: 'num', value: (num(left) | num(right)) >>> 0 };
    }
    return left;
  }

  private postfix(): Value {
    let v = this.primary();
    while (this.isPunct('.') && this.peek(1)?.kind === 'id' && this.isPunct('(', 2)) {
      const method = (this.peek(1) as { name: string }).name;
      this.pos += 3;
      v = callMethod(v, method, this.list(')'));
    }
    return v;
  }

  private primary(): Value {
    const t = this.peek();
    if (!t) throw new FixtureError('unexpected end of input');
    if (t.kind === 'str') {
      const bytes: number[] = [];
      while (this.peek()?.kind === 'str') bytes.push(...(this.tokens[this.pos++] as { bytes: number[] }).bytes);
      return { kind: 'str', bytes, sized: false };
    }
    if (t.kind === 'num') {
      this.pos++;
      return { kind: 'num', value: t.value };
    }
    if (t.kind === 'punct' && t.text === '(') {
      this.pos++;
      const v = this.expression();
      this.expect(')');
      return v;
    }
    if (t.kind === 'punct' && t.text === '{') {
      this.pos++;
      if (this.isPunct('.')) return this.designated();
      return { kind: 'list', items: this.list('}') };
    }
    if (t.kind === 'id') {
      this.pos++;
      if (t.name === 'true' || t.name === 'false') return { kind: 'bool', value: t.name === 'true' };
      if (t.name === 'std::vector' && this.isPunct('<')) {
        // std::vector<uint8_t>{...}: a brace list.
        while (!this.isPunct('>')) this.pos++;
        this.pos++;
        this.expect('{');
        return { kind: 'list', items: this.list('}') };
      }
      if (this.isPunct('(')) {
        this.pos++;
        return callFunction(t.name, this.list(')'));
      }
      const last = t.name.split('::').pop()!;
      const scoped = t.name.split('::').slice(-2).join('::');
      const value = SCOPED[scoped] ?? CONSTANTS[last];
      if (value === undefined) throw new FixtureError(`unknown constant ${t.name}`);
      return { kind: 'num', value };
    }
    throw new FixtureError(`unexpected '${(t as { text: string }).text}'`);
  }

  /** `{.field = value, ...}` (the opening brace already consumed). */
  private designated(): Value {
    const fields = new Map<string, Value>();
    while (!this.isPunct('}')) {
      this.expect('.');
      const name = this.peek();
      if (name?.kind !== 'id') throw new FixtureError('expected a field name after "."');
      this.pos++;
      this.expect('=');
      fields.set(name.name, this.expression());
      if (this.isPunct(',')) this.pos++;
    }
    this.pos++;
    return { kind: 'fields', fields };
  }
}

function num(v: Value): number {
  if (v.kind !== 'num') throw new FixtureError(`expected a number, got ${v.kind}`);
  return v.value;
}

/** A string argument as the C++ callee sees it: a bare literal stops at its first NUL. */
function stringBytes(v: Value): number[] {
  if (v.kind !== 'str') throw new FixtureError(`expected a string, got ${v.kind}`);
  if (v.sized) return v.bytes;
  const nul = v.bytes.indexOf(0);
  return nul < 0 ? v.bytes : v.bytes.slice(0, nul);
}
const text = (v: Value): string => Buffer.from(stringBytes(v)).toString('latin1');
const bytesOf = (v: Value): number[] => (v.kind === 'list' ? v.items.map(num) : stringBytes(v));

function callFunction(name: string, args: Value[]): Value {
  if (name.endsWith('PacketBuilder::newPacket') && args.length === 0) return { kind: 'builder', builder: PacketBuilder.newPacket() };
  if (name === 'std::string' && args.length === 2) {
    const bytes = (args[0] as { bytes?: number[] }).bytes;
    if (!bytes) throw new FixtureError('std::string(p, n) needs a string literal');
    return { kind: 'str', bytes: bytes.slice(0, num(args[1]!)), sized: true };
  }
  if (name === 'std::string' && args.length === 1) return { kind: 'str', bytes: stringBytes(args[0]!), sized: true };
  throw new FixtureError(`unsupported function ${name}()`);
}

function callMethod(target: Value, method: string, args: Value[]): Value {
  const n = (i: number, fallback?: number): number | undefined => (args[i] === undefined ? fallback : num(args[i]!));
  const nums = (): number[] => args.map(num);
  if (target.kind === 'builder') {
    const b = target.builder;
    const wrap = (x: PacketBuilder): Value => ({ kind: 'builder', builder: x });
    switch (method) {
      case 'Eth':
        return wrap(b.Eth(...(args.map(text) as [string?, string?])));
      case 'IPv4':
        return wrap(b.IPv4(text(args[0]!), text(args[1]!), n(2), n(3), n(4), n(5), n(6)));
      case 'IPv6':
        return wrap(b.IPv6(text(args[0]!), text(args[1]!), n(2), n(3), n(4), n(5)));
      case 'UDP':
        return wrap(b.UDP(n(0)!, n(1)!));
      case 'UDPZeroChecksum':
        return wrap(b.UDPZeroChecksum(n(0)!, n(1)!));
      case 'TCP':
        if (args.length > 6) break; // the TCP-options overload
        return wrap(b.TCP(n(0)!, n(1)!, n(2), n(3), n(4), n(5)));
      case 'withTPR':
        return wrap(b.withTPR(n(0)!));
      case 'withMSS':
        return wrap(b.withMSS(n(0)!));
      case 'withWindowScale':
        return wrap(b.withWindowScale(n(0)!));
      case 'withTimestamp':
        return wrap(b.withTimestamp(n(0)!, n(1)));
      case 'withSACKPermitted':
        return wrap(b.withSACKPermitted());
      case 'withNOP':
        return wrap(b.withNOP(n(0)));
      case 'withCustomOption':
        return wrap(b.withCustomOption(n(0)!, args[1] ? bytesOf(args[1]) : []));
      case 'payload':
        return wrap(b.payload(bytesOf(args[0]!)));
      case 'ICMP':
        if (args.length > 4) break;
        return wrap(b.ICMP(...nums()));
      case 'ICMPv6':
        if (args.length > 4) break;
        return wrap(b.ICMPv6(...nums()));
      case 'ARP':
        return wrap(b.ARP(n(0), ...(args.slice(1).map(text) as string[])));
      case 'QUICInitial':
        return { kind: 'quic', quic: b.QUICInitial() };
      case 'QUICHandshake':
        return { kind: 'quic', quic: b.QUICHandshake() };
      case 'QUICRetry':
        return { kind: 'quic', quic: b.QUICRetry() };
      case 'QUIC0RTT':
        return { kind: 'quic', quic: b.QUIC0RTT() };
      case 'QUICShortHeader':
        return { kind: 'quic', quic: b.QUICShortHeader() };
    }
    throw new FixtureError(`PacketBuilder.${method} with ${args.length} arguments is not supported`);
  }
  if (target.kind === 'quic') {
    const q = target.quic;
    const wrap = (x: QuicBuilder): Value => ({ kind: 'quic', quic: x });
    switch (method) {
      case 'destConnId':
        return wrap(q.destConnId(bytesOf(args[0]!)));
      case 'srcConnId':
        return wrap(q.srcConnId(bytesOf(args[0]!)));
      case 'version':
        return wrap(q.version(n(0)!));
      case 'token':
        return wrap(q.token(bytesOf(args[0]!)));
      case 'packetNumber':
        return wrap(q.packetNumber(n(0)!, n(1)));
      case 'cidVersion':
        return wrap(q.cidVersion(n(0)!));
      case 'data':
        return wrap(args[0]!.kind === 'list' ? q.dataBytes(bytesOf(args[0]!)) : q.data(stringBytes(args[0]!)));
      case 'done':
        return { kind: 'builder', builder: q.done() };
    }
    throw new FixtureError(`QUICBuilder.${method} is not supported`);
  }
  throw new FixtureError(`.${method}() called on a ${target.kind}`);
}

function field(fields: Map<string, Value>, name: string): Value {
  const v = fields.get(name);
  if (!v) throw new FixtureError(`no .${name}`);
  return v;
}

function built(v: Value, what: string): Uint8Array {
  if (v.kind !== 'builder') throw new FixtureError(`${what} is not a PacketBuilder chain`);
  return v.builder.build();
}

/**
 * The fixtures of array `arrayName` in a katran fixtures header. Throws FixtureError naming
 * the fixture and the construct if the header uses something this reader does not know.
 */
export function readKatranFixtures(source: string, arrayName: string): KatranFixture[] {
  const parser = new Parser(tokenize(source));
  if (!parser.seekArray(arrayName)) throw new FixtureError(`no array ${arrayName} in the fixtures header`);
  const out: KatranFixture[] = [];
  for (;;) {
    const number = out.length + 1;
    try {
      const element = parser.nextElement();
      if (!element) return out;
      if (element.kind !== 'fields') throw new FixtureError('not a designated initializer');
      const f = element.fields;
      // Older katran checkouts carry base64 strings (made with scapy) instead of builders.
      const packet = (builderField: string, base64Field: string, what: string): Uint8Array =>
        f.has(builderField) ? built(field(f, builderField), what) : Uint8Array.from(Buffer.from(text(field(f, base64Field)), 'base64'));
      out.push({
        number,
        description: text(field(f, 'description')),
        expectedReturnValue: text(field(f, 'expectedReturnValue')),
        input: packet('inputPacketBuilder', 'inputPacket', 'the input'),
        expectedOutput: packet('expectedOutputPacketBuilder', 'expectedOutputPacket', 'the expected output'),
      });
    } catch (e) {
      // Name the fixture the construct is in (katran_tester numbers them from 1).
      if (e instanceof FixtureError || e instanceof PacketBuilderError)
        throw new FixtureError(`${arrayName} fixture ${number}: ${e.message}`);
      throw e;
    }
  }
}
