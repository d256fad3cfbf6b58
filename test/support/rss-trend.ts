// RSS samples of a long run, summed up as a trend: a managed heap under churn rises and
// falls by tens of MiB (V8 grows old space before it collects, then gives pages back), so
// its peak says little about a leak; where the run ends against where it started, and the
// slope of a straight line through all the samples after warm-up, do.

export interface RssSample {
  /** ms since the run started. */
  at: number;
  bytes: number;
}

export interface RssTrend {
  warm: number;
  max: number;
  end: number;
  /** Least-squares slope through the samples after warm-up, bytes per minute. */
  slopePerMinute: number;
  /** What that line rises by from the first sample after warm-up to the last, bytes: the trend the check bounds. */
  rise: number;
  /** Samples after warm-up (the fit's points). */
  points: number;
}

/** Least-squares line through (at, bytes): its slope in bytes per ms, 0 with fewer than two points. */
export function slope(samples: RssSample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const meanT = samples.reduce((s, p) => s + p.at, 0) / n;
  const meanB = samples.reduce((s, p) => s + p.bytes, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const p of samples) {
    covariance += (p.at - meanT) * (p.bytes - meanB);
    variance += (p.at - meanT) ** 2;
  }
  return variance === 0 ? 0 : covariance / variance;
}

/** The trend of the samples taken at or after `warmFrom` (ms); all of them when none is. */
export function rssTrend(samples: RssSample[], warmFrom: number): RssTrend {
  const after = samples.filter((s) => s.at >= warmFrom);
  const warm = after.length ? after : samples.slice(-1);
  return {
    warm: warm[0]!.bytes,
    max: Math.max(...warm.map((s) => s.bytes)),
    end: warm.at(-1)!.bytes,
    slopePerMinute: slope(warm) * 60_000,
    rise: slope(warm) * (warm.at(-1)!.at - warm[0]!.at),
    points: warm.length,
  };
}

/** The series as "t s: MiB" pairs, for a report line. */
export function rssSeries(samples: RssSample[]): string {
  return samples.map((s) => `${Math.round(s.at / 1000)}:${(s.bytes / 1048576).toFixed(1)}`).join(' ');
}
