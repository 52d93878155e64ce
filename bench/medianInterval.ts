/**
 * The median of paired differences and its distribution-free 95% confidence interval (the sign
 * test's order statistics: with n values sorted, [x(k), x(n-k+1)] where k is the largest rank with
 * P(Binomial(n, 1/2) < k) <= 2.5%). bench/coldStart.ts uses it to say whether the first webhook
 * keeps the code load's gain: each round starts both builds, so each round gives one difference,
 * and the interval says how far the rounds' noise alone could move the median.
 */
export interface MedianInterval {
    median: number;
    /** Undefined when there are too few values for a 95% interval (fewer than 6). */
    low?: number;
    high?: number;
}

export function medianInterval(values: readonly number[]): MedianInterval {
    const sorted = [...values].sort((a, b) => a - b);
    const n = sorted.length;
    if (n === 0) throw new Error('medianInterval needs at least one value');
    const middle = n >> 1;
    const median = n % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    const k = lowerRank(n);
    return k === undefined ? { median } : { median, low: sorted[k - 1], high: sorted[n - k] };
}

/** The largest k >= 1 with P(Binomial(n, 1/2) <= k - 1) <= 0.025, or undefined when there is none. */
function lowerRank(n: number): number | undefined {
    let k: number | undefined;
    let cumulative = 0;
    let coefficient = 1; // C(n, i), starting at i = 0
    for (let i = 0; i < n; i++) {
        cumulative += coefficient / 2 ** n;
        if (cumulative > 0.025) break;
        k = i + 1;
        coefficient = (coefficient * (n - i)) / (i + 1);
    }
    return k;
}
