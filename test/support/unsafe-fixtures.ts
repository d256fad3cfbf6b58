// Fixture programs that are unsafe on purpose, so the kernel's verifier (and ours) refuses
// them: they exist to test what happens at run time to whatever a weaker verifier lets
// through. containment.c hands helpers bad pointers and traps under a map lock; batch.c
// faults mid-batch. Tests that expect every fixture to verify leave these out.

export const UNSAFE_ON_PURPOSE: ReadonlySet<string> = new Set(['containment.c', 'batch.c', 'spin_lock_fault.c']);
