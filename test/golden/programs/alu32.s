# 32-bit ALU: i32 arithmetic on the low halves, the result zero-extended into the i64
# register, as the kernel does for BPF_ALU.
#! wat-has i32.mul
#! wat-has i64.extend_i32_u
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov32 %r0, %r2
  add32 %r0, %r3
  mul32 %r0, 3
  rsh32 %r0, 1
  arsh32 %r2, 4
  xor32 %r0, %r2
  exit
