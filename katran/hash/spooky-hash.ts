// SpookyHash V2 (Bob Jenkins), only the "short" path used for messages under 192 bytes:
// folly hashes 16-byte IPv6 addresses with Hash128(addr, 16, seed1 = 0, seed2 = 0).

import { add64, readU64LE, rotl64 } from '../u64.js';

const SC_CONST = 0xdeadbeefdeadbeefn;

type State = [bigint, bigint, bigint, bigint];

// Each step: one lane is rotated, the next lane is added into it, and it is xored into the
// lane before. The rotation amounts are Spooky's published constants.
const MIX_ROTATIONS = [50, 52, 30, 41, 54, 48, 38, 37, 62, 34, 5, 36];
function shortMix(h: State): void {
  for (let step = 0; step < 12; step++) {
    const i = (step + 2) % 4; // lanes in the order h2, h3, h0, h1, ...
    const next = (i + 1) % 4;
    const prev = (i + 2) % 4;
    h[i] = add64(rotl64(h[i]!, MIX_ROTATIONS[step]!), h[next]!);
    h[prev] = h[prev]! ^ h[i]!;
  }
}

const END_ROTATIONS = [15, 52, 26, 51, 28, 9, 47, 54, 32, 25, 63];
function shortEnd(h: State): void {
  for (let step = 0; step < 11; step++) {
    const src = (step + 2) % 4; // h2, h3, h0, h1, ...
    const dst = (step + 3) % 4; // h3, h0, h1, h2, ...
    h[dst] = h[dst]! ^ h[src]!;
    h[src] = rotl64(h[src]!, END_ROTATIONS[step]!);
    h[dst] = add64(h[dst]!, h[src]!);
  }
}

/** Hash128 of a message shorter than 192 bytes. Only lengths 16 (IPv6) are exercised by katran. */
export function spookyHash128Short(message: Uint8Array, seed1 = 0n, seed2 = 0n): [bigint, bigint] {
  if (message.length !== 16) throw new RangeError('spookyHash128Short: only 16-byte messages are implemented');
  const h: State = [seed1, seed2, SC_CONST, SC_CONST];
  // One 16-byte block: two words into lanes c and d, then a mix.
  h[2] = add64(h[2], readU64LE(message, 0));
  h[3] = add64(h[3], readU64LE(message, 8));
  shortMix(h);
  // Remainder 0: the length goes into the top byte of d, and both c and d get the constant.
  h[3] = add64(h[3], BigInt(message.length) << 56n);
  h[2] = add64(h[2], SC_CONST);
  h[3] = add64(h[3], SC_CONST);
  shortEnd(h);
  return [h[0], h[1]];
}
