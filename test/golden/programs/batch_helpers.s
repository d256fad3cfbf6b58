# The batch driver every program gets (`<name>$batch`, one host call per batch), and the
# helpers the module keeps from JS: get_prandom_u32 and xdp_adjust_meta with no import;
# ktime_get_ns, csum_diff and xdp_adjust_tail in wasm with the import kept only as the
# fallback (precise clock, large or out-of-memory ranges, multi-buffer packets).
#! wat-has (export "batch_helpers$batch" (func $batch_helpers$batch))
#! wat-has (func $get_prandom_u32$wasm (result i64)
#! wat-lacks (import "helpers" "get_prandom_u32"
#! wat-lacks (import "helpers" "xdp_adjust_meta"
#! wat-has (func $xdp_adjust_tail$wasm
#! wat-has (import "helpers" "xdp_adjust_tail" (func $helper32$xdp_adjust_tail (param i32 i32) (result i32)))
#! wat-has (func $csum_diff$wasm
#! wat-has (func $ktime_get_ns$wasm
  mov %r6, %r1
  call 7
  call 5
  stdw [%r10-8], 0
  mov %r1, %r10
  add %r1, -8
  mov %r2, 8
  mov %r3, %r1
  mov %r4, 8
  mov %r5, 0
  call 28
  mov %r1, %r6
  mov %r2, -4
  call 54
  mov %r1, %r6
  mov %r2, -1
  call 65
  mov %r0, 2
  exit
