// Tests that need something this machine may lack (root, the kernel's BPF, katran's
// object) call `skip(test, need)`; the runner counts the line as a skip and shows it.

/** Print the standard skip line; returns true so callers can `if (skip(...)) return;`. */
export function skip(what: string, need: string): true {
  console.log(`SKIP ${what}: ${need}`);
  return true;
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;
