// The soak's RSS trend (test/support/rss-trend.ts) on series whose answer is known by hand:
// a straight line gives its own slope; a sawtooth of GC cycles over whole periods rises by
// a fraction of its teeth that shrinks as the run grows; a leak under the same teeth adds
// exactly the leak.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rssTrend, slope, type RssSample } from '../support/rss-trend.js';

const MiB = 1048576;
const close = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-6 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);

test('slope of a straight line is its slope; of one point or a flat line, 0', () => {
  const line = [0, 1000, 2000, 3000].map((at) => ({ at, bytes: 100 + 3 * at }));
  close(slope(line), 3, 'bytes per ms');
  assert.is(slope([{ at: 5, bytes: 7 }]), 0);
  assert.is(slope([0, 1, 2].map((at) => ({ at, bytes: 42 }))), 0);
});

/** Every 2 s for `seconds`: teeth of `tooth` MiB that build up over `period` s and fall back, plus `leak` MiB per minute. */
function series(seconds: number, tooth: number, period: number, leak: number): RssSample[] {
  const out: RssSample[] = [];
  for (let t = 0; t <= seconds; t += 2) {
    const phase = (t % period) / period;
    out.push({ at: t * 1000, bytes: (250 + tooth * phase + (leak * t) / 60) * MiB });
  }
  return out;
}

test('a sawtooth over whole periods rises by tooth × period / window, far below its tooth', () => {
  // Each tooth is a ramp, so the fit leans up by A·P/T: 40 MiB × 100 s / 500 s = 8 MiB.
  const trend = rssTrend(series(600, 40, 100, 0), 100_000);
  assert.ok(Math.abs(trend.rise / MiB - 8) < 1, `rise ${trend.rise / MiB} MiB`);
  assert.ok(trend.max - trend.warm > 35 * MiB, 'the peak is a whole tooth above the warm-up sample');
  assert.is(trend.points, 251);
});

test('a leak under the same sawtooth adds exactly the leak to the rise (the fit is linear)', () => {
  const teeth = rssTrend(series(600, 40, 100, 0), 100_000);
  const leaking = rssTrend(series(600, 40, 100, 4), 100_000);
  // 4 MiB a minute over the 500 s after warm-up: 33.3 MiB.
  close((leaking.rise - teeth.rise) / MiB, (4 * 500) / 60, 'rise added by the leak, MiB');
  close((leaking.slopePerMinute - teeth.slopePerMinute) / MiB, 4, 'slope added by the leak, MiB per minute');
});

test('with no sample after warm-up, the last one stands for all', () => {
  const trend = rssTrend(
    [
      { at: 0, bytes: 10 },
      { at: 1000, bytes: 20 },
    ],
    5000,
  );
  assert.equal([trend.warm, trend.max, trend.end, trend.rise, trend.points], [20, 20, 20, 0, 1]);
});

test.run();
