// The Linux kernel's jhash (Bob Jenkins' lookup3 as adapted in include/linux/jhash.h),
// which katran's data plane uses to pick a ring slot. With this, tests and tools can
// predict which real a flow goes to without running the program.

const JHASH_INITVAL = 0xdeadbeef;

const rol32 = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;

function mix(s: Uint32Array): void {
  // s = [a, b, c]; lookup3's mix() with the kernel's rotation constants.
  const rots = [4, 6, 8, 16, 19, 4];
  for (let step = 0; step < 6; step++) {
    const x = step % 3; // a, b, c, a, b, c
    const z = (x + 2) % 3; // c, a, b, ...
    const y = (x + 1) % 3; // b, c, a, ...
    s[x] = s[x]! - s[z]!;
    s[x] = s[x]! ^ rol32(s[z]!, rots[step]!);
    s[z] = s[z]! + s[y]!;
  }
}

function final(s: Uint32Array): void {
  // lookup3's final(): seven steps, each xoring one lane into the next and subtracting a
  // rotation of it.
  const rots = [14, 11, 25, 16, 4, 14, 24];
  for (let step = 0; step < 7; step++) {
    const from = (step + 1) % 3; // b, c, a, b, c, a, b
    const to = (step + 2) % 3; // c, a, b, c, a, b, c
    s[to] = s[to]! ^ s[from]!;
    s[to] = s[to]! - rol32(s[from]!, rots[step]!);
  }
}

const le32 = (k: Uint8Array, o: number): number => (k[o]! | (k[o + 1]! << 8) | (k[o + 2]! << 16) | (k[o + 3]! << 24)) >>> 0;

/** jhash(key, length, initval) over arbitrary bytes. */
export function jhash(key: Uint8Array, initval: number): number {
  const s = new Uint32Array(3).fill((JHASH_INITVAL + key.length + initval) >>> 0);
  let o = 0;
  let len = key.length;
  while (len > 12) {
    s[0] = s[0]! + le32(key, o);
    s[1] = s[1]! + le32(key, o + 4);
    s[2] = s[2]! + le32(key, o + 8);
    mix(s);
    o += 12;
    len -= 12;
  }
  if (len === 0) return s[2]!;
  // Tail of 1..12 bytes, little-endian within each lane, missing bytes zero.
  const tail = new Uint8Array(12);
  tail.set(key.subarray(o, o + len));
  s[0] = s[0]! + le32(tail, 0);
  s[1] = s[1]! + le32(tail, 4);
  s[2] = s[2]! + le32(tail, 8);
  final(s);
  return s[2]!;
}

/** jhash_2words(a, b, initval) = jhash_3words(a, b, 0, initval) in the kernel. */
export function jhash2Words(a: number, b: number, initval: number): number {
  const seed = (initval + JHASH_INITVAL + 8) >>> 0;
  const s = new Uint32Array([(a + seed) >>> 0, (b + seed) >>> 0, seed]);
  final(s);
  return s[2]!;
}
