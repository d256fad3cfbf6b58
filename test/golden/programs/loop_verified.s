# The same bounded loop as loop_budget.s, verified by the memory-safety model: the walk
# proves the loop ends, so its back edge has no budget check and the entry does not reset
# the budget (docs/design.md "The loop budget").
#! verifier kernel
#! wat-has (loop
#! wat-lacks $budget_left
#! wat-lacks $budget_limit
#! wat-lacks (import "env" "fault"
  mov %r0, 0
  mov %r2, 16
again:
  add %r0, %r2
  add %r2, -1
  jsgt %r2, 0, again
  exit
