# map_lookup_elem on an array map: no call at all, a bounds check on the u32 key and
# base + key * stride, then the value is incremented through the pointer. The key comes
# from the input, so it is not known at compile time (array_lookup_constant_key.s).
#! map counters array key=4 value=8 entries=16
#! wat-lacks map_lookup_elem
#! wat-has (i64.const 16)
  ldxw %r3, [%r1+0]
  stxw [%r10-4], %r3
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
