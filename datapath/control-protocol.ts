// What travels over the control socket (datapath/control.ts): one JSON request per line,
// one JSON reply per line. A dump is paged: the client asks for the entries after a
// cursor (the last key it got) and the server answers one bounded page with the next
// cursor, so neither side ever holds a whole map of millions of entries.
//
// Requests come from anyone who can open the socket, so every field is checked for its
// type here, before any of it reaches the maps, and an error names the field.

import { printable } from '../core/errors.js';
import { DUMP_PAGE_ENTRIES } from '../runtime/map-commands.js';

export const CONTROL_OPS = ['dump', 'lookup', 'update', 'delete'] as const;
export type ControlOp = (typeof CONTROL_OPS)[number];

export interface ControlRequest {
  op: ControlOp;
  map: string;
  key?: string;
  value?: string;
  /** dump: continue after this key (hex), as the previous page's `next` said. */
  cursor?: string;
  /** dump: at most this many entries in the page (1..DUMP_PAGE_ENTRIES). */
  limit?: number;
}

/** `next`: a dump's cursor for the following page; absent on the last page. */
export type ControlReply = { lines: string[]; next?: string } | { error: string };

/**
 * The longest request line the server reads: a per-CPU value of 64 CPUs with 8 KiB
 * values is 1 MiB of hex; anything longer is refused and the connection closed.
 */
export const MAX_REQUEST_CHARS = 2 * 1024 * 1024;

const STRING_FIELDS = ['op', 'map', 'key', 'value', 'cursor'] as const;
const FIELDS = new Set<string>([...STRING_FIELDS, 'limit']);

const kind = (x: unknown): string => (x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x);

/** The request on `line`, or the one-line reason it is not one. */
export function parseRequest(line: string): ControlRequest | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { error: 'malformed request: not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { error: `malformed request: ${kind(parsed)}, not a JSON object` };
  }
  const r = parsed as Record<string, unknown>;
  const unknown = Object.keys(r).find((f) => !FIELDS.has(f));
  if (unknown !== undefined) return { error: `malformed request: unknown field '${printable(unknown, 64)}'` };
  for (const field of STRING_FIELDS) {
    if (r[field] !== undefined && typeof r[field] !== 'string') {
      return { error: `malformed request: field '${field}' must be a string, not ${kind(r[field])}` };
    }
  }
  if (r.op === undefined) return { error: "malformed request: field 'op' is missing" };
  if (r.map === undefined) return { error: "malformed request: field 'map' is missing" };
  if (!(CONTROL_OPS as readonly string[]).includes(r.op as string)) {
    return { error: `malformed request: field 'op' is '${printable(r.op as string, 64)}', not one of ${CONTROL_OPS.join(', ')}` };
  }
  if (r.limit !== undefined && (typeof r.limit !== 'number' || !Number.isInteger(r.limit) || r.limit < 1 || r.limit > DUMP_PAGE_ENTRIES)) {
    return { error: `malformed request: field 'limit' must be an integer 1..${DUMP_PAGE_ENTRIES}` };
  }
  if ((r.cursor !== undefined || r.limit !== undefined) && r.op !== 'dump') {
    return { error: `malformed request: fields 'cursor' and 'limit' belong to dump, not ${r.op as string}` };
  }
  return r as unknown as ControlRequest;
}
