// The `umem:` line `bpf2wasm run` prints at exit for AF_XDP, read back per worker: where
// each UMEM frame was (fill, RX, TX and completion rings, held by the worker) and the
// frame count, so that a test can add the parts up itself.

export interface UmemAccount {
  fill: number;
  rx: number;
  tx: number;
  completion: number;
  held: number;
  /** The sum the line states (checked against the parts by the reader). */
  stated: number;
  frames: number;
  rxDropped: number;
  /** Frames the kernel could not put on the RX ring (full): dropped before the program saw them. */
  rxRingFull: number;
  txLost: number;
}

const WORKER =
  /w(\d+) fill (\d+) \+ rx (\d+) \+ tx (\d+) \+ completion (\d+) \+ held (-?\d+) = (\d+)\/(\d+) frames, (\d+) rx dropped, (\d+) rx ring full, (\d+) tx lost/g;

/** Per worker, in order; empty when there is no such line. */
export function parseUmemLine(lines: string[]): UmemAccount[] {
  const line = lines.find((l) => l.startsWith('umem: ')) ?? '';
  return [...line.matchAll(WORKER)].map((m) => {
    const n = m.slice(2).map(Number);
    return {
      fill: n[0]!,
      rx: n[1]!,
      tx: n[2]!,
      completion: n[3]!,
      held: n[4]!,
      stated: n[5]!,
      frames: n[6]!,
      rxDropped: n[7]!,
      rxRingFull: n[8]!,
      txLost: n[9]!,
    };
  });
}

/** fill + rx + tx + completion + held, added here rather than taken from the line. */
export const accounted = (u: UmemAccount): number => u.fill + u.rx + u.tx + u.completion + u.held;
