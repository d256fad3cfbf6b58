// Errors of the runtime that a user can cause. A map operation refused from the control
// plane is a MapError carrying the Linux errno name the kernel would give, so callers can
// react to E2BIG (full) or ENOENT (absent) the way they would with bpftool or libbpf.
// Programs never see these: helpers get the negative errno number instead (ERRNO).

import { UserError } from '../core/errors.js';
import { ERRNO, type ErrnoName } from '../core/errno.js';

const NAME_BY_ERRNO: Record<number, ErrnoName> = Object.fromEntries(Object.entries(ERRNO).map(([name, n]) => [n, name as ErrnoName]));

/** The errno name of a negative helper result (`-2` -> `ENOENT`). */
export function errnoName(result: number): ErrnoName | undefined {
  return NAME_BY_ERRNO[-result];
}

const REASON: Record<ErrnoName, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such entry',
  E2BIG: 'map is full or key out of range',
  EACCES: 'permission denied',
  EAGAIN: 'try again',
  ENOMEM: 'out of memory',
  EBUSY: 'busy',
  ENODEV: 'no such device',
  EEXIST: 'entry already exists',
  EINVAL: 'invalid argument',
  ENOSPC: 'no space left in map',
  EOVERFLOW: 'value too large',
  EOPNOTSUPP: 'operation not supported by this map type',
};

/** A control-plane map operation the map refused: `map 'vip_map': update: E2BIG: ...`. */
export class MapError extends UserError {
  override name = 'MapError';
  constructor(
    readonly map: string,
    readonly operation: string,
    readonly errno: ErrnoName,
    readonly reason: string = REASON[errno],
  ) {
    super(`map '${map}': ${operation}: ${errno}: ${reason}`);
  }

  /** Turns a negative helper result into the matching MapError. */
  static fromResult(map: string, operation: string, result: number, detail?: string): MapError {
    const errno = errnoName(result) ?? 'EINVAL';
    return new MapError(map, operation, errno, detail ?? REASON[errno]);
  }
}
