import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../../local/dynamodb-local.js';
import { cleanEnv, REPO, startInstance } from '../../test/helpers/local-instance.js';
import { median } from './stats.js';

/** One HTTP scenario's figures: medians over the runs. */
export interface HttpFigures {
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Over all runs: the requests sent, and those that failed or answered another status. */
  requests: number;
  failures: number;
  runs: { requestsPerSecond: number; p50Ms: number; p99Ms: number; meanMs: number }[];
}

export interface HttpResult {
  seconds: number;
  connections: number;
  repeats: number;
  scenarios: HttpFigures[];
  /**
   * `GET /v3/scopes` (cache warm) over `GET /health`: mean latency, p50 latency, and time per
   * request from throughput (health's requests/s over scopes'). Medians of per-run ratios.
   */
  scopesWarmOverHealth: { meanLatency: number; p50: number; throughput: number };
}

interface Scenario {
  id: 'health' | 'scopesWarm' | 'scopesCacheOff' | 'create';
  label: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  status: number;
}

/** Bootstraps an account with room for every create the bench sends; returns its owner key. */
function benchAccountKey(dataDir: string): string {
  const result = spawnSync(
    process.execPath,
    ['bin/keygate.js', 'bootstrap', '--account', 'bench', '--key-limit', '10000000', '--json'],
    { cwd: REPO, env: cleanEnv({ KEYGATE_DATA_DIR: dataDir }), encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`keygate bootstrap failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { api_key: string }).api_key;
}

async function once(url: string, scenario: Scenario, seconds: number) {
  let failures = 0;
  const result = await autocannon({
    url: `${url}${scenario.path}`,
    method: scenario.method,
    headers: scenario.headers,
    ...(scenario.body === undefined ? {} : { body: scenario.body }),
    connections: CONNECTIONS,
    duration: seconds,
    // Every response is checked: a figure for a request that failed would flatter Keygate.
    requests: [
      {
        onResponse: (status: number) => {
          if (status !== scenario.status) failures += 1;
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    meanMs: result.latency.average,
    requests: result.requests.total,
    failures: failures + result.errors + result.timeouts,
  };
}

const CONNECTIONS = 10;

/**
 * HTTP through `npm start`'s server (`local/start.ts` in its own process, a fresh data
 * directory), autocannon with {@link CONNECTIONS} connections for `seconds` per run:
 * `GET /health`, `GET /v3/scopes` with the authorizer cache warm, `POST /v3/api_keys`; then the
 * server again with `KEYGATE_AUTHORIZER_CACHE_TTL=0` for `GET /v3/scopes` with the cache off.
 * Scenarios take turns within each repeat, so drift (JIT, DynamoDB Local's JVM, a busy neighbour)
 * spreads over all of them; each figure is the median of `repeats` runs, after one untimed
 * 2-second warm-up per scenario.
 */
export async function measureHttp(options: {
  seconds: number;
  repeats: number;
}): Promise<HttpResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keygate-bench-http-'));
  try {
    const runs = new Map<Scenario, Awaited<ReturnType<typeof once>>[]>();
    const phase = async (env: Record<string, string>, scenarios: (key: string) => Scenario[]) => {
      const instance = await startInstance(dataDir, await freePort(), {
        env,
        startupOutputOnly: true,
      });
      try {
        const list = scenarios(benchAccountKeyOnce());
        for (const scenario of list) {
          runs.set(scenario, []);
          await once(instance.url, scenario, 2);
        }
        for (let repeat = 0; repeat < options.repeats; repeat++) {
          for (const scenario of list)
            runs.get(scenario)?.push(await once(instance.url, scenario, options.seconds));
        }
      } finally {
        await instance.stop();
      }
    };
    let ownerKey: string | undefined;
    // The account is made while the first server runs (the CLI talks to it) and reused after.
    const benchAccountKeyOnce = () => {
      ownerKey ??= benchAccountKey(dataDir);
      return ownerKey;
    };
    const auth = (key: string) => ({ authorization: `Bearer ${key}` });
    const scopes = (key: string, id: 'scopesWarm' | 'scopesCacheOff', label: string): Scenario => ({
      id,
      label,
      method: 'GET',
      path: '/v3/scopes',
      headers: auth(key),
      status: 200,
    });
    await phase({}, (key) => [
      {
        id: 'health',
        label: 'GET /health',
        method: 'GET',
        path: '/health',
        headers: {},
        status: 200,
      },
      scopes(key, 'scopesWarm', 'GET /v3/scopes (authorizer cache warm)'),
      {
        id: 'create',
        label: 'POST /v3/api_keys',
        method: 'POST',
        path: '/v3/api_keys',
        headers: { ...auth(key), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bench', scopes: ['mail.send'] }),
        status: 201,
      },
    ]);
    await phase({ KEYGATE_AUTHORIZER_CACHE_TTL: '0' }, (key) => [
      scopes(key, 'scopesCacheOff', 'GET /v3/scopes (authorizer cache off)'),
    ]);

    const figures = new Map<Scenario['id'], HttpFigures>();
    for (const [scenario, list] of runs) {
      figures.set(scenario.id, {
        label: scenario.label,
        requestsPerSecond: median(list.map((r) => r.requestsPerSecond)),
        p50Ms: median(list.map((r) => r.p50Ms)),
        p99Ms: median(list.map((r) => r.p99Ms)),
        meanMs: median(list.map((r) => r.meanMs)),
        requests: list.reduce((sum, r) => sum + r.requests, 0),
        failures: list.reduce((sum, r) => sum + r.failures, 0),
        runs: list.map(({ requestsPerSecond, p50Ms, p99Ms, meanMs }) => ({
          requestsPerSecond,
          p50Ms,
          p99Ms,
          meanMs,
        })),
      });
    }
    const health = figures.get('health');
    const warm = figures.get('scopesWarm');
    if (!health || !warm) throw new Error('HTTP scenarios missing');
    // Per-run ratios, then their median: both sides of each ratio ran minutes apart at most.
    const healthRuns = health.runs;
    const ratioRuns = warm.runs.map((run, i) => {
      const h = healthRuns[i];
      return {
        mean: run.meanMs / (h?.meanMs ?? Number.NaN),
        p50: run.p50Ms / (h?.p50Ms ?? Number.NaN),
        rps: (h?.requestsPerSecond ?? Number.NaN) / run.requestsPerSecond,
      };
    });
    return {
      seconds: options.seconds,
      connections: CONNECTIONS,
      repeats: options.repeats,
      scenarios: ['health', 'scopesWarm', 'scopesCacheOff', 'create'].map((id) => {
        const f = figures.get(id as Scenario['id']);
        if (!f) throw new Error(`scenario ${id} missing`);
        return f;
      }),
      scopesWarmOverHealth: {
        meanLatency: median(ratioRuns.map((r) => r.mean)),
        p50: median(ratioRuns.map((r) => r.p50)),
        throughput: median(ratioRuns.map((r) => r.rps)),
      },
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
