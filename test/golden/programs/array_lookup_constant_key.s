# map_lookup_elem on an array map at a key the block wrote as a constant: the element's
# address, decided at compile time (storage + 3 * 8): no key read back, no bounds check.
#! map counters array key=4 value=8 entries=16
#! wat-lacks map_lookup_elem
#! wat-lacks i64.lt_u
#! wat-lacks i64.load32_u
  stw [%r10-4], 3
  mov %r2, %r10
  add %r2, -4
  lddw %r1, map:counters
  call 1
  jeq %r0, 0, out
  ldxdw %r1, [%r0+0]
  add %r1, 1
  stxdw [%r0+0], %r1
out:
  mov %r0, 2
  exit
