/**
 * The cost model of docs/cost.md (issue 15), as pure functions: what authorizing a million
 * requests costs on AWS at a given authorizer cache hit rate, and which Lambda memory size
 * minimises cost × latency for a function's measured CPU time. `scripts/bench/memory.ts` feeds it
 * the figures it measures and prints the tables the document shows.
 *
 * Prices are us-east-1 list prices, first tier, on-demand, in USD; docs/cost.md gives the source
 * and the date each was read, and marks what could not be confirmed.
 */

/** us-east-1 list prices (first tier). Sources: docs/cost.md, "Prices". */
export const PRICES = {
  /** API Gateway REST API, per million requests (first 333 million a month). */
  restApiPerMillion: 3.5,
  /** API Gateway HTTP API, per million requests (first 300 million a month; 512 KB units). */
  httpApiPerMillion: 1.0,
  /** Lambda, per million invocations (either architecture). */
  lambdaRequestsPerMillion: 0.2,
  /** Lambda duration per GB-second (first tier), by architecture; Keygate deploys arm64. */
  lambdaGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  /** DynamoDB on-demand, per million read request units (since the November 2024 cut). */
  readRequestUnitsPerMillion: 0.125,
  /** DynamoDB on-demand, per million write request units (since the November 2024 cut). */
  writeRequestUnitsPerMillion: 0.625,
  /** CloudWatch Logs ingestion per GB (standard class; Lambda's vended-log first tier). */
  logIngestionPerGb: 0.5,
} as const;

export type Architecture = keyof typeof PRICES.lambdaGbSecond;

/** Lambda's memory size that gives a function one full vCPU (AWS Lambda developer guide). */
export const ONE_VCPU_MB = 1769;

/** Bytes in the GB that CloudWatch Logs and Lambda bill by (binary, as DynamoDB documents). */
export const GB = 1024 ** 3;

/**
 * How much slower CPU-bound work runs at `memoryMb` than on one vCPU: Lambda gives a function
 * CPU in proportion to its memory, a whole vCPU at 1,769 MB. A single-threaded Node handler gains
 * nothing above that. This is the proportional share; bursts shorter than the scheduler's period
 * may run faster, so it is an upper bound on the slowdown.
 */
export function cpuSlowdown(memoryMb: number): number {
  if (!(memoryMb > 0)) throw new Error('memoryMb must be positive');
  return Math.max(1, ONE_VCPU_MB / memoryMb);
}

/** What one invocation does, measured at one vCPU: CPU that scales, I/O that does not. */
export interface Work {
  /** CPU time at one vCPU, milliseconds. */
  cpuMs: number;
  /** Waiting on the network (a DynamoDB round trip), milliseconds: the same at any memory. */
  ioMs: number;
}

/** Estimated duration of `work` at `memoryMb`: CPU × slowdown + I/O, milliseconds. */
export function durationMs(work: Work, memoryMb: number): number {
  return work.cpuMs * cpuSlowdown(memoryMb) + work.ioMs;
}

/** Lambda bills duration in whole milliseconds, rounded up. */
export function billedMs(ms: number): number {
  return Math.max(1, Math.ceil(ms - 1e-9));
}

/** Dollars of duration for one invocation billed `ms` at `memoryMb`. */
export function durationCost(memoryMb: number, ms: number, arch: Architecture = 'arm64'): number {
  return (memoryMb / 1024) * (billedMs(ms) / 1000) * PRICES.lambdaGbSecond[arch];
}

/** A function's measured profile (one vCPU): its warm invocation and its cold start. */
export interface FunctionProfile {
  /** A warm invocation. */
  warm: Work;
  /** Loading the bundle (Lambda's INIT phase, billed since August 2025): CPU at one vCPU, ms. */
  initCpuMs: number;
  /** The first invocation after INIT (lazy set-up, first connection). */
  first: Work;
  /** Resident memory after the timed invocations, MB. */
  rssMb: number;
}

export interface MemoryOptions {
  /** Share of invocations that start a new execution environment (INIT, then a first call). */
  coldFraction: number;
  arch?: Architecture;
  /** Memory must be at least this many times the measured RSS. @default 1.5 */
  headroom?: number;
  /**
   * Whether INIT runs at full speed whatever the memory size (reports differ on whether Lambda
   * throttles INIT like an invocation; docs/cost.md). @default false: INIT is slowed too.
   */
  initAtFullSpeed?: boolean;
}

export interface MemoryRow {
  memoryMb: number;
  /** A warm invocation, ms. */
  warmMs: number;
  /** INIT plus the first invocation, ms. */
  coldMs: number;
  /** Warm and cold weighted by the cold fraction, ms. */
  expectedMs: number;
  /** Requests plus duration (INIT included at the cold fraction), dollars per million invocations. */
  costPerMillion: number;
  /** costPerMillion × expectedMs: the figure to minimise. */
  score: number;
  /** Whether memoryMb leaves the headroom over the measured RSS. */
  fits: boolean;
}

/** Each candidate memory size's estimated durations and cost for `profile`. */
export function memoryTable(
  profile: FunctionProfile,
  memories: readonly number[],
  options: MemoryOptions,
): MemoryRow[] {
  const { coldFraction: c } = options;
  if (!(c >= 0 && c <= 1)) throw new Error('coldFraction must be within 0..1');
  const arch = options.arch ?? 'arm64';
  const headroom = options.headroom ?? 1.5;
  return memories.map((memoryMb) => {
    const warmMs = durationMs(profile.warm, memoryMb);
    const initMs = profile.initCpuMs * (options.initAtFullSpeed ? 1 : cpuSlowdown(memoryMb));
    const coldMs = initMs + durationMs(profile.first, memoryMb);
    const expectedMs = (1 - c) * warmMs + c * coldMs;
    const perInvocation =
      (1 - c) * durationCost(memoryMb, warmMs, arch) + c * durationCost(memoryMb, coldMs, arch);
    const costPerMillion = PRICES.lambdaRequestsPerMillion + 1e6 * perInvocation;
    return {
      memoryMb,
      warmMs,
      coldMs,
      expectedMs,
      costPerMillion,
      score: costPerMillion * expectedMs,
      fits: memoryMb >= profile.rssMb * headroom,
    };
  });
}

/** The row with the lowest cost × latency among those that fit (the smallest memory on a tie). */
export function bestMemory(rows: readonly MemoryRow[]): MemoryRow {
  const fitting = rows.filter((r) => r.fits);
  const best = fitting.reduce<MemoryRow | undefined>(
    (a, r) =>
      !a ||
      r.score < a.score - 1e-12 ||
      (Math.abs(r.score - a.score) <= 1e-12 && r.memoryMb < a.memoryMb)
        ? r
        : a,
    undefined,
  );
  if (!best) throw new Error('no candidate memory size fits the measured RSS');
  return best;
}

/** The same profile on a CPU `factor` times as fast (1/3: a CPU three times faster). */
export function scaleCpu(profile: FunctionProfile, factor: number): FunctionProfile {
  if (!(factor > 0)) throw new Error('factor must be positive');
  return {
    warm: { ...profile.warm, cpuMs: profile.warm.cpuMs * factor },
    initCpuMs: profile.initCpuMs * factor,
    first: { ...profile.first, cpuMs: profile.first.cpuMs * factor },
    rssMb: profile.rssMb,
  };
}

/**
 * The memory size that stays closest to the best cost × latency over several scenarios (the
 * same candidates under different assumptions): for each candidate that fits in every scenario,
 * its worst ratio to that scenario's best score; the lowest worst ratio wins, the smaller memory
 * on a tie. Returns the memory and its worst ratio.
 */
export function robustMemory(tables: readonly (readonly MemoryRow[])[]): {
  memoryMb: number;
  worstRatio: number;
} {
  const first = tables[0];
  if (!first || first.length === 0) throw new Error('no scenario');
  const bestScores = tables.map((rows) => bestMemory(rows).score);
  let choice: { memoryMb: number; worstRatio: number } | undefined;
  for (const { memoryMb } of first) {
    const rows = tables.map((t) => t.find((r) => r.memoryMb === memoryMb));
    if (rows.some((r) => !r?.fits)) continue;
    const worstRatio = Math.max(
      ...rows.map((r, i) => (r as MemoryRow).score / (bestScores[i] ?? 1)),
    );
    if (
      !choice ||
      worstRatio < choice.worstRatio - 1e-9 ||
      (Math.abs(worstRatio - choice.worstRatio) <= 1e-9 && memoryMb < choice.memoryMb)
    ) {
      choice = { memoryMb, worstRatio };
    }
  }
  if (!choice) throw new Error('no candidate memory size fits every scenario');
  return choice;
}

/** What authorizing `requests` requests costs, line by line, in dollars. */
export interface AuthorizationCost {
  gateway: number;
  lambdaRequests: number;
  lambdaDuration: number;
  dynamoReads: number;
  lastUsedWrites: number;
  logs: number;
  total: number;
}

export interface AuthorizationScenario {
  requests: number;
  /** Share of requests answered from the authorizer cache (no Lambda, no DynamoDB). */
  hitRate: number;
  /** API Gateway's price per million requests (REST or HTTP API). */
  gatewayPerMillion: number;
  /** Whether a Lambda authorizer runs on a miss (false: API Gateway's own API keys). */
  lambdaAuthorizer: boolean;
  /** Expected duration dollars of one authorizer invocation (from {@link memoryTable}). */
  durationCostPerInvocation: number;
  /** Read request units per miss: 1 (one strongly consistent read of an item under 4 KB). */
  readUnitsPerMiss: number;
  /** Share of misses that record the key's last use (at most once a minute per key). */
  writesPerMiss: number;
  /** Write request units per last-used write (the table and the index projecting the item). */
  writeUnitsPerWrite: number;
  /** Stage access log bytes per request (every request, hit or miss). */
  accessLogBytes: number;
  /** Authorizer log bytes per invocation (a miss). */
  authorizerLogBytes: number;
}

export function authorizationCost(s: AuthorizationScenario): AuthorizationCost {
  if (!(s.hitRate >= 0 && s.hitRate <= 1)) throw new Error('hitRate must be within 0..1');
  if (!(s.writesPerMiss >= 0 && s.writesPerMiss <= 1)) {
    throw new Error('writesPerMiss must be within 0..1');
  }
  const misses = s.lambdaAuthorizer ? s.requests * (1 - s.hitRate) : 0;
  const gateway = (s.requests / 1e6) * s.gatewayPerMillion;
  const lambdaRequests = (misses / 1e6) * PRICES.lambdaRequestsPerMillion;
  const lambdaDuration = misses * s.durationCostPerInvocation;
  const dynamoReads = ((misses * s.readUnitsPerMiss) / 1e6) * PRICES.readRequestUnitsPerMillion;
  const lastUsedWrites =
    ((misses * s.writesPerMiss * s.writeUnitsPerWrite) / 1e6) * PRICES.writeRequestUnitsPerMillion;
  const logBytes = s.requests * s.accessLogBytes + misses * s.authorizerLogBytes;
  const logs = (logBytes / GB) * PRICES.logIngestionPerGb;
  return {
    gateway,
    lambdaRequests,
    lambdaDuration,
    dynamoReads,
    lastUsedWrites,
    logs,
    total: gateway + lambdaRequests + lambdaDuration + dynamoReads + lastUsedWrites + logs,
  };
}

/**
 * One stage access log line as API Gateway writes it: the format (`JSON.stringify` of the
 * fields, each `$context.…` inside quotes) with every variable replaced by its value in
 * `values`, or `-` (what API Gateway writes for a variable without a value).
 */
export function accessLogLine(
  fields: Readonly<Record<string, string>>,
  values: Readonly<Record<string, string>>,
): string {
  return JSON.stringify(fields).replace(/\$context\.[A-Za-z.]+/g, (variable) => {
    const name = variable.slice('$context.'.length);
    return values[name] ?? '-';
  });
}

/** Dollars with enough digits for sub-cent lines. */
export function dollars(value: number): string {
  if (value === 0) return '$0';
  if (value >= 1) return `$${value.toFixed(2)}`;
  if (value >= 0.01) return `$${value.toFixed(3)}`;
  return `$${value.toFixed(4)}`;
}
