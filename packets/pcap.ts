// Classic libpcap files (not pcapng): read every record of an Ethernet capture, write
// records back with the same header. Microsecond and nanosecond magic, both byte orders.

import { UserError } from '../core/errors.js';

export const LINKTYPE_ETHERNET = 1;
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;

export interface PcapRecord {
  /** Timestamp in nanoseconds since the epoch. */
  timestampNs: bigint;
  /** Length on the wire (may exceed data.length for truncated captures). */
  originalLength: number;
  data: Uint8Array;
}

/**
 * Every record of the capture. A record longer than the file's snaplen breaks the format's
 * promise but its bytes are all there: it is read whole, and `warn` (when given) hears of
 * it once, with the first such record and how many there were.
 */
export function readPcap(bytes: Uint8Array, label: string, warn?: (message: string) => void): PcapRecord[] {
  if (bytes.length < FILE_HEADER) throw new UserError(`${label}: too short for a pcap file header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let little: boolean;
  let nanos: boolean;
  const magicLe = view.getUint32(0, true);
  const magicBe = view.getUint32(0, false);
  if (magicLe === MAGIC_US || magicLe === MAGIC_NS) [little, nanos] = [true, magicLe === MAGIC_NS];
  else if (magicBe === MAGIC_US || magicBe === MAGIC_NS) [little, nanos] = [false, magicBe === MAGIC_NS];
  else if (magicLe === 0x0a0d0d0a) throw new UserError(`${label}: pcapng is not supported; convert with 'editcap -F pcap'`);
  else throw new UserError(`${label}: not a pcap file (magic 0x${magicLe.toString(16)})`);
  const linktype = view.getUint32(20, little) & 0x0fffffff;
  if (linktype !== LINKTYPE_ETHERNET) throw new UserError(`${label}: link type ${linktype} is not Ethernet (1)`);
  const snaplen = view.getUint32(16, little); // 0: a writer that did not say (no limit)
  const overSnaplen: { index: number; caplen: number }[] = [];
  const records: PcapRecord[] = [];
  let at = FILE_HEADER;
  while (at < bytes.length) {
    if (at + RECORD_HEADER > bytes.length) throw new UserError(`${label}: record ${records.length} header truncated at byte ${at}`);
    const sec = view.getUint32(at, little);
    const frac = view.getUint32(at + 4, little);
    const caplen = view.getUint32(at + 8, little);
    const origlen = view.getUint32(at + 12, little);
    at += RECORD_HEADER;
    if (at + caplen > bytes.length) throw new UserError(`${label}: record ${records.length} data truncated at byte ${at}`);
    if (snaplen > 0 && caplen > snaplen) overSnaplen.push({ index: records.length, caplen });
    records.push({
      timestampNs: BigInt(sec) * 1_000_000_000n + BigInt(frac) * (nanos ? 1n : 1000n),
      originalLength: origlen,
      data: bytes.slice(at, at + caplen),
    });
    at += caplen;
  }
  if (warn && overSnaplen.length > 0) {
    const [first] = overSnaplen;
    const more = overSnaplen.length > 1 ? ` (and ${overSnaplen.length - 1} more records)` : '';
    warn(`${label}: record ${first!.index} captures ${first!.caplen} bytes, more than the file's snaplen ${snaplen}${more}; read whole`);
  }
  return records;
}

/** Write records as a microsecond, little-endian Ethernet capture. */
export function writePcap(records: readonly PcapRecord[], snaplen = 65535): Uint8Array {
  const size = FILE_HEADER + records.reduce((n, r) => n + RECORD_HEADER + r.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC_US, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, snaplen, true);
  view.setUint32(20, LINKTYPE_ETHERNET, true);
  let at = FILE_HEADER;
  for (const r of records) {
    view.setUint32(at, Number(r.timestampNs / 1_000_000_000n), true);
    view.setUint32(at + 4, Number((r.timestampNs % 1_000_000_000n) / 1000n), true);
    view.setUint32(at + 8, r.data.length, true);
    view.setUint32(at + 12, Math.max(r.originalLength, r.data.length), true);
    out.set(r.data, at + RECORD_HEADER);
    at += RECORD_HEADER + r.data.length;
  }
  return out;
}
