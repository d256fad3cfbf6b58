# A loop verified structurally only (no proof that it ends; loop_verified.s is the same
# loop with the proof): the back edge decrements the instruction budget and faults when
# it runs out; the entry resets the budget from its limit.
#! wat-has (global.set $budget_left
#! wat-has (import "env" "fault"
  mov %r0, 0
  ldxb %r2, [%r1+0]
again:
  add %r0, %r2
  add %r2, -1
  jsgt %r2, 0, again
  exit
