/** The median; for an even count, the mean of the middle two. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const a = sorted[mid] ?? Number.NaN;
  const b = sorted[mid - 1] ?? a;
  return sorted.length % 2 === 0 ? (a + b) / 2 : a;
}

/**
 * Median over `repeats` runs of µs per call for each function, after one untimed warm-up run of
 * each. The functions take turns within every repeat, so a server warming up (DynamoDB Local's
 * JVM) does not favour whichever is measured last.
 */
export async function microsecondsEach(
  iterations: number,
  repeats: number,
  fns: readonly (() => unknown)[],
): Promise<number[]> {
  const runs: number[][] = fns.map(() => []);
  for (let repeat = 0; repeat <= repeats; repeat++) {
    for (const [index, fn] of fns.entries()) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) await fn();
      const elapsed = Number(process.hrtime.bigint() - start) / 1000 / iterations;
      if (repeat > 0) runs[index]?.push(elapsed);
    }
  }
  return runs.map(median);
}

/**
 * Like {@link microsecondsEach}, for I/O: the functions alternate call by call (their order
 * rotating), each call timed alone, so a server's drift within a run (DynamoDB Local's JVM
 * collecting, a busy neighbour) falls on all of them alike instead of on whichever loop it
 * happened to hit. Per-call timing costs well under a microsecond, noise at I/O's scale.
 */
export async function microsecondsInterleaved(
  iterations: number,
  repeats: number,
  fns: readonly (() => unknown)[],
): Promise<number[]> {
  const runs: number[][] = fns.map(() => []);
  for (let repeat = 0; repeat <= repeats; repeat++) {
    const totals = fns.map(() => 0n);
    for (let i = 0; i < iterations; i++) {
      for (let k = 0; k < fns.length; k++) {
        const index = (i + k) % fns.length;
        const start = process.hrtime.bigint();
        await fns[index]?.();
        totals[index] = (totals[index] ?? 0n) + (process.hrtime.bigint() - start);
      }
    }
    if (repeat === 0) continue;
    for (const [index, total] of totals.entries()) {
      runs[index]?.push(Number(total) / 1000 / iterations);
    }
  }
  return runs.map(median);
}
