// Mistakes a caller of the katran control plane can make (bad address, unknown VIP, full
// maps...) are KatranError: one line naming the operation and the cause. They are thrown
// before anything is written, so a rejected request leaves maps and state as they were.

import { UserError } from '../core/errors.js';

export class KatranError extends UserError {
  override name = 'KatranError';
  constructor(
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`${operation}: ${reason}`);
  }
}

/** A backend (userspace maps or the kernel) refused a write the control plane asked for. */
export class KatranMapError extends Error {
  override name = 'KatranMapError';
  constructor(
    readonly map: string,
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`map ${map}: ${operation} failed: ${reason}`);
  }
}
