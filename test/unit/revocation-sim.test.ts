import { describe, expect, it } from 'vitest';
import { FULL_RUN, simulate } from '../../scripts/bench/revocation-sim.js';
import {
  MIN_FLUSH_INTERVAL_MS,
  REVOCATION_BOUND_MS,
} from '../../shared/domain/flush-coalescing.js';

// The simulation's short mode (`npm run sim:revocation -- --short` runs the whole table): a
// seeded model on a simulated clock, so each figure is the same on every run and machine.
const SHORT = { ...FULL_RUN, keys: 2_000, requestsPerSecond: 200, seconds: 60, warmupSeconds: 30 };

describe('revocation simulation (short mode)', () => {
  it.each([
    ['calm', 1],
    ['saturated', 12],
  ])(
    'holds flushes to one a second and every revocation to its bound at 50 revocations/s, control plane %s',
    async (_label, backgroundPerSecond) => {
      const figures = await simulate({
        ...SHORT,
        design: 'coalesced',
        revocationsPerSecond: 50,
        backgroundPerSecond,
      });

      // Successful flushes at most one a second; throttled attempts back off (0.5 to 1 s apart).
      expect(figures.flushCallsPerSecond - figures.flushThrottledPerSecond).toBeLessThanOrEqual(
        1000 / MIN_FLUSH_INTERVAL_MS,
      );
      expect(figures.flushCallsPerSecond).toBeLessThanOrEqual(2);
      expect(figures.staleness.count).toBeGreaterThan(1_000);
      expect(figures.staleness.max).toBeLessThanOrEqual(REVOCATION_BOUND_MS);
      expect(figures.quietTenant.count).toBeGreaterThan(0);
      expect(figures.quietTenant.max).toBeLessThanOrEqual(REVOCATION_BOUND_MS);
    },
  );

  it('shows the storm the lease removes: the previous design flushes per change and starves other calls', async () => {
    const options = { ...SHORT, revocationsPerSecond: 50, backgroundPerSecond: 1 };

    const before = await simulate({ ...options, design: 'flush-each' });
    const after = await simulate({ ...options, design: 'coalesced' });

    expect(before.flushCallsPerSecond).toBeGreaterThan(40);
    expect(before.backgroundThrottled).toBeGreaterThan(0.5);
    expect(after.backgroundThrottled).toBe(0);
    expect(after.hitRate).toBeGreaterThan(before.hitRate);
  });
});
