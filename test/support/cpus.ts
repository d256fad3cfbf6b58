// CPUs as the kernel sees them, for tests that compare per-CPU behaviour with it: the
// kernel's BPF_PROG_TEST_RUN and map syscalls run on the calling CPU, and its LRU maps
// size their per-CPU lists by the possible CPUs. Our engines run as worker (CPU) 0 with
// maps laid out for possibleCpus() CPUs; the test process's main thread is pinned to CPU 0.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The kernel's num_possible_cpus(): the count in /sys/devices/system/cpu/possible ("0-1,4"). */
export function possibleCpus(): number {
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  return text.split(',').reduce((n, part) => {
    const [a, b] = part.split('-').map(Number);
    return n + (b === undefined ? 1 : b - a! + 1);
  }, 0);
}

/**
 * Pins this process's main thread (whose tid is the pid) to `cpu`; returns what undoes it.
 * Threads started meanwhile inherit the pin, so undo it before starting workers that race.
 */
export function pinMainThread(cpu = 0): () => void {
  const pid = String(process.pid);
  const before = execFileSync('taskset', ['-p', pid], { encoding: 'utf8' }).trim().split(/\s+/).pop()!;
  execFileSync('taskset', ['-p', '-c', String(cpu), pid], { stdio: 'ignore' });
  return () => execFileSync('taskset', ['-p', before, pid], { stdio: 'ignore' });
}
