// The frame that asks a map-driving fixture (test/fixtures/kernel/map_ops.h: hash_full.c,
// lru_pressure.c) for one operation: EtherType 0x88b5 (local experimental), then the
// packed struct op at byte 14: op, map index, u32 key, u64 value, update flags and — for
// hash_full.c — the result slot.

export function mapOpFrame(op: number, map: number, key: number, value: bigint, flags: number, slot = 0): Uint8Array {
  const f = new Uint8Array(64);
  const dv = new DataView(f.buffer);
  f[12] = 0x88;
  f[13] = 0xb5;
  f[14] = op;
  f[15] = map;
  dv.setUint32(16, key, true);
  dv.setBigUint64(20, value, true);
  f[28] = flags;
  f[29] = slot & 0xff;
  return f;
}
