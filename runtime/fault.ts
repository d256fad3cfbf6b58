// A run-time fault of a BPF program (budget exhausted, out-of-bounds access, bad call):
// the packet is aborted, the process lives on. Both the interpreter and compiled modules
// (through the `env.fault` import or a wasm trap) end up here.

import { FAULT_NAME } from '../core/abi.js';

export const FAULT_OUT_OF_BOUNDS = 100;
export const FAULT_TRAP = 101;

export class BpfFault extends Error {
  override name = 'BpfFault';
  constructor(
    readonly kind: number,
    readonly pc: number,
    detail?: string,
  ) {
    super(`${detail ?? FAULT_NAME[kind] ?? `fault ${kind}`}${pc >= 0 ? ` at instruction ${pc}` : ''}`);
  }
}

/**
 * Whatever a packet's run threw, as the fault that aborts that packet: a wasm trap, a
 * BpfFault, or an exception out of a helper (a RangeError from a view, a MapError, a
 * stack overflow) — none of them may end the process or reach the next packet.
 */
export function packetFault(error: unknown): BpfFault {
  if (error instanceof BpfFault || error instanceof WebAssembly.RuntimeError) return asFault(error);
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new BpfFault(FAULT_TRAP, -1, `exception in the runtime: ${message}`);
}

/** Normalise what a run threw: BpfFault as is, a wasm trap as a BpfFault, anything else rethrown. */
export function asFault(error: unknown): BpfFault {
  if (error instanceof BpfFault) return error;
  if (error instanceof WebAssembly.RuntimeError) {
    const oob = /out of bounds/.test(error.message);
    return new BpfFault(oob ? FAULT_OUT_OF_BOUNDS : FAULT_TRAP, -1, `wasm trap: ${error.message}`);
  }
  throw error;
}
