// Assembly pieces the map-lookup codegen tests build their programs from (the `#!`
// assembler of compiler/asm.ts): a lookup summed into r6, r6 from one lookup's result,
// and the tail that stores r6 in the `out` array (u64 values) and passes the packet.

/** r6 += *lookup(map, key) when found (the u32 key at r10 - 4); `n` keeps its label unique. */
export const lookupAndAdd = (map: string, key: number, n: number): string => `
  stw [%r10-4], ${key}
  mov %r2, %r10
  add %r2, -4
  lddw %r1, map:${map}
  call 1
  jeq %r0, 0, next${n}
  ldxdw %r1, [%r0+0]
  add %r6, %r1
next${n}:`;

/** After a lookup: r6 = *r0, or 0xdead when it returned NULL. */
export const R6_FROM_RESULT = `
  mov %r6, 0xdead
  jeq %r0, 0, store
  ldxdw %r6, [%r0+0]
store:`;

/** out[index] = r6 (its key written at r10 - keySlot), then XDP_PASS. */
export const storeR6AndPass = (index: number, keySlot: number): string => `
  stw [%r10-${keySlot}], ${index}
  mov %r2, %r10
  add %r2, -${keySlot}
  lddw %r1, map:out
  call 1
  jeq %r0, 0, done
  stxdw [%r0+0], %r6
done:
  mov %r0, 2
  exit`;
