// bpftool's map commands (dump, lookup, update, delete) over a machine's maps, keys and
// values as hex bytes, and the `MAP=KEY:VALUE` provisioning of `--update`. Used by the
// `bpf2wasm map` and `test-run` commands (cli/) and by a live run's control socket
// (datapath/control.ts).

import { printable, UserError } from '../core/errors.js';
import type { BpfMachine } from './machine.js';
import { programIdOf } from './maps/redirect-value.js';

export interface MapUpdate {
  map: string;
  key: Uint8Array;
  value: Uint8Array;
  /** A program named after the value (`HEX+PROGRAM`), for devmap and cpumap entries. */
  program?: string;
}

export function parseHex(text: string, what: string): Uint8Array {
  const clean = text.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (clean.length === 0 || clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) {
    throw new UserError(`${what} '${printable(text, 64)}' is not hex bytes (e.g. 0a000001)`);
  }
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** `MAP=KEY:VALUE`, both hex: the --update option of test-run and map. */
export function parseUpdate(text: string): MapUpdate {
  const m = text.match(/^([^=]+)=([^:]+):(.+)$/);
  if (!m) throw new UserError(`--update '${text}' is not MAP=KEYHEX:VALUEHEX`);
  const [, map, key, valueText] = m as [string, string, string, string]; // all three groups are mandatory
  const { hex, program } = splitProgram(valueText);
  return { map, key: parseHex(key, 'key'), value: parseHex(hex, 'value'), ...(program === undefined ? {} : { program }) };
}

export function applyUpdates(machine: BpfMachine, updates: readonly string[] = []): void {
  for (const u of updates.map(parseUpdate)) mapOf(machine, u.map).updateBytes(u.key, withProgram(machine, u.value, u.program));
}

/**
 * A devmap / cpumap value `HEX+PROGRAM` (e.g. `05000000+xdp/devmap`): the hex gives the
 * first word (ifindex, queue size) and the program, named by its function or section,
 * fills the bpf_prog word with its id, as the kernel's value takes a program's fd.
 */
function splitProgram(text: string): { hex: string; program?: string } {
  const plus = text.indexOf('+');
  return plus < 0 ? { hex: text } : { hex: text.slice(0, plus), program: text.slice(plus + 1) };
}

function withProgram(machine: BpfMachine, value: Uint8Array, program: string | undefined): Uint8Array {
  if (program === undefined) return value;
  const p = machine.manifest.programs.find((x) => x.name === program || x.section === program);
  if (!p)
    throw new UserError(
      `value names program '${program}', which is not in the object (programs: ${machine.manifest.programs.map((x) => x.name).join(', ')})`,
    );
  const out = new Uint8Array(8);
  out.set(value.subarray(0, 4));
  new DataView(out.buffer).setUint32(4, programIdOf(p.tableIndex), true);
  return out;
}

function mapOf(machine: BpfMachine, name: string) {
  const map = machine.maps.find(name);
  if (!map) throw new UserError(`no map '${name}' (maps: ${machine.manifest.maps.map((m) => m.name).join(', ')})`);
  return map;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A dump page stops after this many characters of lines (at least one entry), whatever the limit. */
export const DUMP_PAGE_CHARS = 256 * 1024;
export const DUMP_PAGE_ENTRIES = 4096;

export interface DumpPage {
  lines: string[];
  /** The last key of this page (hex), to continue after; absent when the map has no more. */
  next?: string;
}

/**
 * Entries of map `name` after key `after` (hex; none: from the first), as bpftool walks a
 * map with get_next_key: bounded work and memory per page, so a dump of millions of
 * entries never holds them all. As in the kernel, a cursor key deleted meanwhile restarts
 * the walk (hash maps), and entries changing during the walk may be seen or not.
 */
export function dumpPage(machine: BpfMachine, name: string, after?: string, limit = DUMP_PAGE_ENTRIES): DumpPage {
  const map = mapOf(machine, name);
  let key = after === undefined ? undefined : parseHex(after, 'cursor');
  const lines: string[] = [];
  let chars = 0;
  while (lines.length < limit && chars < DUMP_PAGE_CHARS) {
    const next = map.getNextKeyBytes(key);
    if (!next) return { lines };
    key = next;
    const value = map.lookupBytes(next);
    if (!value) continue; // deleted since get_next_key
    const line = `key ${hex(next)} value ${hex(value)}`;
    lines.push(line);
    chars += line.length;
  }
  return key === undefined ? { lines } : { lines, next: hex(key) };
}

/** Every entry of a map, a page at a time. */
export function* dumpLines(machine: BpfMachine, name: string): Generator<string> {
  let after: string | undefined;
  do {
    const page = dumpPage(machine, name, after);
    yield* page.lines;
    after = page.next;
  } while (after !== undefined);
}

export function mapCommand(machine: BpfMachine, op: string, name: string, key?: string, value?: string): Iterable<string> {
  const map = mapOf(machine, name);
  const needKey = (): Uint8Array => {
    if (key === undefined) throw new UserError(`map ${op} needs a KEY`);
    return parseHex(key, 'key');
  };
  switch (op) {
    case 'dump':
      return dumpLines(machine, name);
    case 'lookup': {
      const v = map.lookupBytes(needKey());
      if (!v) throw new UserError(`map ${name}: no entry for key ${key}`);
      return [`key ${hex(needKey())} value ${hex(v)}`];
    }
    case 'update':
      if (value === undefined) throw new UserError('map update needs a KEY and a VALUE');
      const { hex: valueHex, program } = splitProgram(value);
      map.updateBytes(needKey(), withProgram(machine, parseHex(valueHex, 'value'), program));
      return [];
    case 'delete':
      map.deleteBytes(needKey());
      return [];
  }
  throw new UserError(`unknown map command '${op}' (dump, lookup, update, delete)`);
}
