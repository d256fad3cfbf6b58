// How the parts of the control plane that point at reals (VIP rings, QUIC ids, source
// routing) share KatranLb's one real registry: a request is planned on a draft copy and
// the draft replaces the registry only once the request's map writes went through.

import type { IpAddress } from './ip.js';
import type { RealRegistry } from './real-registry.js';

export interface CreatedReal {
  num: number;
  addr: IpAddress;
  flags: number;
}

export interface SharedReals {
  /** The registry as it stands (read only). */
  current(): RealRegistry;
  /** A copy to plan a request on. */
  draft(): RealRegistry;
  /**
   * Writes the `reals` entries of indexes the draft created, runs the request's own
   * writes, then makes the draft the registry.
   */
  commit(draft: RealRegistry, created: readonly CreatedReal[], writes: () => void): void;
}
