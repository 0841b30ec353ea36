/** The median; for an even count, the mean of the middle two. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const a = sorted[mid] ?? Number.NaN;
  const b = sorted[mid - 1] ?? a;
  return sorted.length % 2 === 0 ? (a + b) / 2 : a;
}

/**
 * Per function, the median over `repeats` of what `measureOnce` reports (µs per call, one entry
 * per function), after one untimed warm-up round.
 */
async function medianOverRepeats(
  repeats: number,
  count: number,
  measureOnce: () => Promise<number[]>,
): Promise<number[]> {
  const runs: number[][] = Array.from({ length: count }, () => []);
  await measureOnce();
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const [index, us] of (await measureOnce()).entries()) runs[index]?.push(us);
  }
  return runs.map(median);
}

/**
 * Median over `repeats` runs of µs per call for each function, after one untimed warm-up run of
 * each. The functions take turns within every repeat, so a server warming up (DynamoDB Local's
 * JVM) does not favour whichever is measured last.
 */
export function microsecondsEach(
  iterations: number,
  repeats: number,
  fns: readonly (() => unknown)[],
): Promise<number[]> {
  return medianOverRepeats(repeats, fns.length, async () => {
    const perCall: number[] = [];
    for (const fn of fns) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) await fn();
      perCall.push(Number(process.hrtime.bigint() - start) / 1000 / iterations);
    }
    return perCall;
  });
}

/**
 * Like {@link microsecondsEach}, for I/O: the functions alternate call by call (their order
 * rotating), each call timed alone, so a server's drift within a run (DynamoDB Local's JVM
 * collecting, a busy neighbour) falls on all of them alike instead of on whichever loop it
 * happened to hit. Per-call timing costs well under a microsecond, noise at I/O's scale.
 */
export function microsecondsInterleaved(
  iterations: number,
  repeats: number,
  fns: readonly (() => unknown)[],
): Promise<number[]> {
  return medianOverRepeats(repeats, fns.length, async () => {
    const totals = fns.map(() => 0n);
    for (let i = 0; i < iterations; i++) {
      for (let k = 0; k < fns.length; k++) {
        const index = (i + k) % fns.length;
        const start = process.hrtime.bigint();
        await fns[index]?.();
        totals[index] = (totals[index] ?? 0n) + (process.hrtime.bigint() - start);
      }
    }
    return totals.map((total) => Number(total) / 1000 / iterations);
  });
}
