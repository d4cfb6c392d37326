import { describe, expect, it } from 'vitest';
import { meanInterval, studentTCdf, studentTQuantile, welchTest } from '../../src/eval/studentT.ts';

describe("Student's t", () => {
  it('matches published two-sided 95 % critical values', () => {
    // Standard tables: t(0.975; df) for df = 1, 2, 4, 9, 30.
    const table: Array<[number, number]> = [[1, 12.706], [2, 4.303], [4, 2.776], [9, 2.262], [30, 2.042]];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 3);
  });

  it('is symmetric and its CDF inverts the quantile', () => {
    expect(studentTCdf(0, 5)).toBeCloseTo(0.5, 12);
    expect(studentTCdf(-2, 7) + studentTCdf(2, 7)).toBeCloseTo(1, 12);
    expect(studentTCdf(studentTQuantile(0.9, 3), 3)).toBeCloseTo(0.9, 9);
  });

  it('gives the t interval of a mean, and no spread for one value', () => {
    const s = meanInterval([0.9, 0.92, 0.94, 0.96, 0.98], 0.95);
    expect(s.mean).toBeCloseTo(0.94, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(0.004 / 4), 12); // squares 0.0016 + 0.0004 + 0 + 0.0004 + 0.0016
    expect(s.hi! - s.mean).toBeCloseTo(2.776 * (s.sd! / Math.sqrt(5)), 3);
    expect(meanInterval([0.9], 0.95)).toEqual({ mean: 0.9, sd: null, lo: null, hi: null });
  });

  it("Welch's test matches scipy.stats.ttest_ind(equal_var=False)", () => {
    // scipy: statistic -1.8973665961010275, pvalue 0.10753119493062728, df 5.882352941176471 (B − A here, so +t).
    const w = welchTest([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])!;
    expect(w.t).toBeCloseTo(1.8973665961010275, 10);
    expect(w.df).toBeCloseTo(5.882352941176471, 10);
    expect(w.p).toBeCloseTo(0.10753119493062728, 6);
    expect(welchTest([0.9], [0.8, 0.9])).toBeNull();
  });
});
