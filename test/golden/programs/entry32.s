# The exports of a program: the i64 entry, and the same entry narrowed to i32 under
# `$r0_32`, which is what the JS caller uses per packet (no BigInt).
#! wat-has (export "entry32" (func $entry32$entry))
#! wat-has (export "entry32$r0_32" (func $entry32$entry32))
  mov %r0, 2
  exit
