# A bpf-to-bpf call: the callee is its own wasm function, called with r1..r5 and the
# callee's frame pointer (r10 minus one stack frame).
#! wat-has (call $local_call@5
  mov %r1, 20
  mov %r2, 22
  call local sum
  add %r0, 0
  exit
sum:
  mov %r0, %r1
  add %r0, %r2
  stxdw [%r10-8], %r0
  exit
