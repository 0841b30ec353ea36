import { describe, expect, it } from 'vitest';
import {
  accessLogLine,
  authorizationCost,
  bestMemory,
  billedMs,
  cpuSlowdown,
  dollars,
  durationCost,
  durationMs,
  type FunctionProfile,
  GB,
  type MemoryRow,
  memoryTable,
  ONE_VCPU_MB,
  PRICES,
  robustMemory,
  scaleCpu,
} from '../../scripts/bench/cost-model.js';

const PROFILE: FunctionProfile = {
  warm: { cpuMs: 2, ioMs: 8 },
  initCpuMs: 120,
  first: { cpuMs: 60, ioMs: 12 },
  rssMb: 80,
};

describe('cpuSlowdown', () => {
  it('is 1 from one vCPU (1,769 MB) up, and in proportion below', () => {
    expect(cpuSlowdown(ONE_VCPU_MB)).toBe(1);
    expect(cpuSlowdown(3008)).toBe(1);
    expect(cpuSlowdown(ONE_VCPU_MB / 2)).toBe(2);
    expect(cpuSlowdown(128)).toBeCloseTo(13.82, 2);
  });

  it('refuses a memory size that is not positive', () => {
    expect(() => cpuSlowdown(0)).toThrow(/positive/);
  });
});

describe('durations and their price', () => {
  it('scales CPU with memory and leaves I/O alone', () => {
    expect(durationMs({ cpuMs: 2, ioMs: 8 }, ONE_VCPU_MB)).toBe(10);
    expect(durationMs({ cpuMs: 2, ioMs: 8 }, ONE_VCPU_MB / 4)).toBe(16);
  });

  it('bills whole milliseconds, rounded up, at least one', () => {
    expect(billedMs(0.2)).toBe(1);
    expect(billedMs(1)).toBe(1);
    expect(billedMs(1.0001)).toBe(2);
    expect(billedMs(12.5)).toBe(13);
  });

  it('prices a GB-second at the architecture rate', () => {
    expect(durationCost(1024, 1000)).toBeCloseTo(PRICES.lambdaGbSecond.arm64, 12);
    expect(durationCost(1024, 1000, 'x86_64')).toBeCloseTo(PRICES.lambdaGbSecond.x86_64, 12);
    expect(durationCost(512, 10.2)).toBeCloseTo(0.5 * 0.011 * PRICES.lambdaGbSecond.arm64, 15);
  });
});

describe('memoryTable', () => {
  const memories = [128, 512, 1024, ONE_VCPU_MB, 2048];

  it('without cold starts, expects the warm duration, and charges requests and GB-s', () => {
    const [row] = memoryTable(PROFILE, [1024], { coldFraction: 0 });

    expect(row?.warmMs).toBeCloseTo(2 * (ONE_VCPU_MB / 1024) + 8, 9);
    expect(row?.expectedMs).toBe(row?.warmMs);
    expect(row?.costPerMillion).toBeCloseTo(
      PRICES.lambdaRequestsPerMillion + 1e6 * durationCost(1024, row?.warmMs ?? 0),
      9,
    );
  });

  it('weighs INIT and the first call by the cold fraction', () => {
    const [row] = memoryTable(PROFILE, [ONE_VCPU_MB], { coldFraction: 0.01 });

    expect(row?.coldMs).toBeCloseTo(120 + 60 + 12, 9);
    expect(row?.expectedMs).toBeCloseTo(0.99 * 10 + 0.01 * 192, 9);
  });

  it('charges CPU-bound INIT the same GB-seconds at any memory up to one vCPU', () => {
    const init: FunctionProfile = { ...PROFILE, warm: { cpuMs: 0, ioMs: 0 }, first: PROFILE.warm };
    const rows = memoryTable({ ...init, first: { cpuMs: 0, ioMs: 0 } }, [256, 512, 1024], {
      coldFraction: 1,
    });
    const costs = rows.map((r) => r.costPerMillion);

    expect(Math.max(...costs) / Math.min(...costs)).toBeLessThan(1.01);
  });

  it('can leave INIT at full speed whatever the memory size', () => {
    const [slowed, full] = [false, true].map(
      (initAtFullSpeed) =>
        memoryTable(PROFILE, [ONE_VCPU_MB / 2], { coldFraction: 1, initAtFullSpeed })[0],
    );

    expect(slowed?.coldMs).toBeCloseTo(240 + 120 + 12, 9);
    expect(full?.coldMs).toBeCloseTo(120 + 120 + 12, 9);
  });

  it('marks memory sizes under 1.5× the RSS as not fitting', () => {
    const rows = memoryTable(PROFILE, memories, { coldFraction: 0.01 });

    expect(rows.filter((r) => !r.fits).map((r) => r.memoryMb)).toEqual([]);
    expect(
      memoryTable({ ...PROFILE, rssMb: 100 }, [128, 256], { coldFraction: 0 }).map((r) => r.fits),
    ).toEqual([false, true]);
  });

  it('refuses a cold fraction outside 0..1', () => {
    expect(() => memoryTable(PROFILE, [512], { coldFraction: 2 })).toThrow(/coldFraction/);
  });
});

function row(memoryMb: number, score: number, fits = true): MemoryRow {
  return { memoryMb, score, fits, warmMs: 0, coldMs: 0, expectedMs: 0, costPerMillion: 0 };
}

describe('choosing a memory size', () => {
  it('takes the lowest cost × latency among the sizes that fit', () => {
    expect(bestMemory([row(128, 1, false), row(512, 3), row(1024, 2)]).memoryMb).toBe(1024);
  });

  it('takes the smaller size on a tie, and fails when nothing fits', () => {
    expect(bestMemory([row(1024, 2), row(512, 2)]).memoryMb).toBe(512);
    expect(() => bestMemory([row(128, 1, false)])).toThrow(/fits/);
  });

  it('across scenarios, takes the size closest to each best in the worst case', () => {
    const slowCpu = [row(512, 12), row(1024, 10.5), row(1769, 10)];
    const fastCpu = [row(512, 10), row(1024, 10.2), row(1769, 11)];

    expect(robustMemory([slowCpu, fastCpu])).toEqual({ memoryMb: 1024, worstRatio: 1.05 });
  });

  it('the model picks one vCPU when CPU dominates and less when the wait does', () => {
    const cpuBound: FunctionProfile = { ...PROFILE, warm: { cpuMs: 20, ioMs: 0 } };
    const ioBound: FunctionProfile = {
      warm: { cpuMs: 0.05, ioMs: 40 },
      initCpuMs: 0,
      first: { cpuMs: 0, ioMs: 40 },
      rssMb: 60,
    };
    const candidates = [128, 256, 512, 1024, ONE_VCPU_MB, 2048];

    expect(bestMemory(memoryTable(cpuBound, candidates, { coldFraction: 0 })).memoryMb).toBe(
      ONE_VCPU_MB,
    );
    expect(bestMemory(memoryTable(ioBound, candidates, { coldFraction: 0 })).memoryMb).toBe(128);
  });

  it('scales a profile to a faster CPU without touching I/O or memory', () => {
    expect(scaleCpu(PROFILE, 0.5)).toEqual({
      warm: { cpuMs: 1, ioMs: 8 },
      initCpuMs: 60,
      first: { cpuMs: 30, ioMs: 12 },
      rssMb: 80,
    });
  });
});

describe('authorizationCost', () => {
  const base = {
    requests: 1e6,
    gatewayPerMillion: PRICES.restApiPerMillion,
    lambdaAuthorizer: true,
    durationCostPerInvocation: 1e-7,
    readUnitsPerMiss: 1,
    writesPerMiss: 1,
    writeUnitsPerWrite: 2,
    accessLogBytes: 500,
    authorizerLogBytes: 300,
  };

  it('at 0 % hits, runs the authorizer, a read and a last-used write per request', () => {
    const cost = authorizationCost({ ...base, hitRate: 0 });

    expect(cost.gateway).toBeCloseTo(3.5, 9);
    expect(cost.lambdaRequests).toBeCloseTo(0.2, 9);
    expect(cost.lambdaDuration).toBeCloseTo(0.1, 9);
    expect(cost.dynamoReads).toBeCloseTo(0.125, 9);
    expect(cost.lastUsedWrites).toBeCloseTo(1.25, 9);
    expect(cost.logs).toBeCloseTo(((1e6 * 800) / GB) * 0.5, 9);
    expect(cost.total).toBeCloseTo(
      cost.gateway +
        cost.lambdaRequests +
        cost.lambdaDuration +
        cost.dynamoReads +
        cost.lastUsedWrites +
        cost.logs,
      12,
    );
  });

  it('at 99 % hits, pays for the misses only (and the gateway and access log for all)', () => {
    const cost = authorizationCost({ ...base, hitRate: 0.99 });

    expect(cost.gateway).toBeCloseTo(3.5, 9);
    expect(cost.lambdaRequests).toBeCloseTo(0.002, 9);
    expect(cost.dynamoReads).toBeCloseTo(0.00125, 9);
    expect(cost.logs).toBeCloseTo(((1e6 * 500 + 1e4 * 300) / GB) * 0.5, 9);
  });

  it("with API Gateway's own keys, pays the gateway and the access log only", () => {
    const cost = authorizationCost({ ...base, hitRate: 0, lambdaAuthorizer: false });

    expect(cost.lambdaRequests + cost.lambdaDuration + cost.dynamoReads + cost.lastUsedWrites).toBe(
      0,
    );
    expect(cost.total).toBeCloseTo(3.5 + ((1e6 * 500) / GB) * 0.5, 9);
  });

  it('refuses rates outside 0..1', () => {
    expect(() => authorizationCost({ ...base, hitRate: 1.5 })).toThrow(/hitRate/);
    expect(() => authorizationCost({ ...base, hitRate: 0.5, writesPerMiss: -1 })).toThrow(
      /writesPerMiss/,
    );
  });
});

describe('accessLogLine', () => {
  it("fills the format's variables and writes - for those without a value", () => {
    const fields = {
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      keyId: '$context.authorizer.keyId',
      error: '$context.error.message',
    };
    const line = accessLogLine(fields, {
      requestId: 'r-1',
      'identity.sourceIp': '203.0.113.7',
      'authorizer.keyId': 'k1',
    });

    expect(JSON.parse(line)).toEqual({
      requestId: 'r-1',
      ip: '203.0.113.7',
      keyId: 'k1',
      error: '-',
    });
  });
});

describe('dollars', () => {
  it('shows sub-cent amounts with four decimals and larger ones with fewer', () => {
    expect(dollars(0)).toBe('$0');
    expect(dollars(0.00125)).toBe('$0.0013');
    expect(dollars(0.125)).toBe('$0.125');
    expect(dollars(3.5)).toBe('$3.50');
  });
});
