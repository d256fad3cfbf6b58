# Hot helpers without five i64 arguments: map_lookup_elem on a hash map (the module's own
# hash lookup, falling back to its i32 import) and xdp_adjust_head, which the module runs
# itself over the XDP context block, inline at its call (no import, no call at all).
#! map flows hash key=4 value=8 entries=64
#! wat-has (import "helpers" "map_lookup_elem" (func $helper32$map_lookup_elem (param i32 i32) (result i32)))
#! wat-has (block $adjust_head$10 (result i32)
#! wat-lacks $xdp_adjust_head$wasm
#! wat-lacks (import "helpers" "xdp_adjust_head"
  mov %r6, %r1
  stw [%r10-4], 7
  mov %r2, %r10
  add %r2, -4
  lddw %r1, map:flows
  call 1
  jeq %r0, 0, pass
  mov %r1, %r6
  mov %r2, -14
  call 44
  jne %r0, 0, drop
pass:
  mov %r0, 2
  exit
drop:
  mov %r0, 1
  exit
