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
  /** UMEM offsets (hex) the run's audit found on no ring, and on two rings (or twice on one). */
  missing: string[];
  doubled: string[];
  /** The worker's own account at exit (false: its last statistics under traffic, the worker did not report at exit). */
  final: boolean;
}

const WORKER =
  /w(\d+) fill (\d+) \+ rx (\d+) \+ tx (\d+) \+ completion (\d+) \+ held (-?\d+) = (\d+)\/(\d+) frames, (\d+) rx dropped, (\d+) rx ring full, (\d+) tx lost(?: \((?:frames on no ring: ([^;]*); on two rings: ([^)]*)|(not a final account)[^)]*)\))?/g;

/** Per worker, in order; empty when there is no such line. */
export function parseUmemLine(lines: string[]): UmemAccount[] {
  const line = lines.find((l) => l.startsWith('umem: ')) ?? '';
  const offsets = (list: string | undefined): string[] => (list && list !== 'none' ? list.split(' ') : []);
  return [...line.matchAll(WORKER)].map((m) => {
    const n = m.slice(2, 12).map(Number);
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
      missing: offsets(m[12]),
      doubled: offsets(m[13]),
      final: m[14] === undefined,
    };
  });
}

/** fill + rx + tx + completion + held, added here rather than taken from the line. */
export const accounted = (u: UmemAccount): number => u.fill + u.rx + u.tx + u.completion + u.held;
