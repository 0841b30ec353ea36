import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../../local/dynamodb-local.js';
import { runCliProcess, startInstance } from '../../test/helpers/local-instance.js';
import { median } from './stats.js';

/** One HTTP scenario's figures: medians over the runs. */
export interface HttpFigures {
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** The server process's CPU time (user + system) per request, µs: what the route costs it. */
  serverCpuUs: number;
  /** Over all runs: the requests sent, and those that failed or answered another status. */
  requests: number;
  failures: number;
  runs: {
    requestsPerSecond: number;
    p50Ms: number;
    p99Ms: number;
    meanMs: number;
    serverCpuUs: number;
  }[];
}

export interface HttpResult {
  seconds: number;
  connections: number;
  repeats: number;
  scenarios: HttpFigures[];
  /** Requests of the untimed warm-ups that failed or answered another status. */
  warmupFailures: number;
  /**
   * `GET /v3/scopes` with the cache warm over `GET /health`, as time per request (health's
   * requests/s over the other's), for the sending key and for the owner key: the median of the
   * per-run ratios (each pair ran back to back), every per-run ratio, and the ratio of the two
   * medians; and the server's CPU per request, likewise.
   */
  scopesWarmOverHealth: {
    sender: RatioFigures;
    owner: RatioFigures;
    senderServerCpu: RatioFigures;
  };
}

/** One comparison, three ways. */
export interface RatioFigures {
  medianOfRuns: number;
  runs: number[];
  ofMedians: number;
}

interface Scenario {
  id: 'health' | 'scopesWarm' | 'scopesWarmOwner' | 'scopesCacheOff' | 'create';
  label: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  status: number;
}

/** The keys the scenarios present. */
interface BenchKeys {
  /** The account's owner key: every scope of the catalogue (`GET /v3/scopes` answers ~5 KB). */
  owner: string;
  /** A sending key (`mail.send` only), the most common kind of key. */
  sender: string;
}

/**
 * Bootstraps an account with room for every create the bench sends, and a sending key through
 * the API.
 */
async function benchKeys(dataDir: string, url: string): Promise<BenchKeys> {
  const owner = benchAccountKey(dataDir);
  const response = await fetch(`${url}/v3/api_keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench sender', scopes: ['mail.send'] }),
  });
  if (response.status !== 201) throw new Error(`creating the sending key: ${response.status}`);
  return { owner, sender: ((await response.json()) as { api_key: string }).api_key };
}

function benchAccountKey(dataDir: string): string {
  const result = runCliProcess(
    ['bootstrap', '--account', 'bench', '--key-limit', '10000000', '--json'],
    { KEYGATE_DATA_DIR: dataDir },
  );
  if (result.status !== 0) throw new Error(`keygate bootstrap failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { api_key: string }).api_key;
}

/**
 * CPU time (user + system) the process has used, in µs, from `/proc/<pid>/stat`; undefined
 * where there is no `/proc` (the figure is then left out).
 */
function cpuMicroseconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (USER_HZ: 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

async function once(url: string, scenario: Scenario, seconds: number, serverPid?: number) {
  let failures = 0;
  const cpuBefore = cpuMicroseconds(serverPid);
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
    serverCpuUs: serverCpuPerRequest(cpuBefore, cpuMicroseconds(serverPid), result.requests.total),
    requests: result.requests.total,
    failures: failures + result.errors + result.timeouts,
  };
}

function serverCpuPerRequest(
  before: number | undefined,
  after: number | undefined,
  requests: number,
) {
  return before === undefined || after === undefined || requests === 0
    ? Number.NaN
    : (after - before) / requests;
}

const CONNECTIONS = 10;

/**
 * HTTP through `npm start`'s server (`local/start.ts` in its own process, a fresh data
 * directory), autocannon with {@link CONNECTIONS} connections for `seconds` per run:
 * `GET /health`; `GET /v3/scopes` with the authorizer cache warm, for a sending key (one scope)
 * and for the owner key (every scope: a 5 KB answer); `POST /v3/api_keys`; then the server again
 * with `KEYGATE_AUTHORIZER_CACHE_TTL=0` for `GET /v3/scopes` with the cache off. Scenarios take
 * turns within each repeat, so drift (JIT, DynamoDB Local's JVM, a busy neighbour) spreads over
 * all of them; each figure is the median of `repeats` runs, after a 1-second warm-up each.
 *
 * autocannon records whole milliseconds, and a warm local request takes well under one, so its
 * p50 is 0 or 1 ms. Comparisons therefore use throughput: with a fixed number of connections
 * always busy, mean latency is connections / throughput (Little's law), exactly.
 */
export async function measureHttp(options: {
  seconds: number;
  repeats: number;
}): Promise<HttpResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keygate-bench-http-'));
  try {
    const runs = new Map<Scenario, Awaited<ReturnType<typeof once>>[]>();
    let warmupFailures = 0;
    /** Runs each group's scenarios in turn, `repeats` times, then the next group. */
    const phase = async (
      env: Record<string, string>,
      groups: (keys: BenchKeys) => Scenario[][],
    ) => {
      const instance = await startInstance(dataDir, await freePort(), {
        // npm start's own log level (the bench quiets its in-process measurements, not this).
        env: { POWERTOOLS_LOG_LEVEL: 'INFO', ...env },
        startupOutputOnly: true,
      });
      try {
        keys ??= await benchKeys(dataDir, instance.url);
        for (const list of groups(keys)) {
          for (const scenario of list) {
            runs.set(scenario, []);
            warmupFailures += (await once(instance.url, scenario, 1)).failures;
          }
          for (let repeat = 0; repeat < options.repeats; repeat++) {
            for (const scenario of list) {
              const run = await once(instance.url, scenario, options.seconds, instance.process.pid);
              runs.get(scenario)?.push(run);
            }
          }
        }
      } finally {
        await instance.stop();
      }
    };
    // Made while the first server runs (the CLI talks to it), reused by the second.
    let keys: BenchKeys | undefined;
    const auth = (key: string) => ({ authorization: `Bearer ${key}` });
    const scopes = (key: string, id: Scenario['id'], label: string): Scenario => ({
      id,
      label,
      method: 'GET',
      path: '/v3/scopes',
      headers: auth(key),
      status: 200,
    });
    // Reads first, taking turns; creates after, so the writes DynamoDB Local absorbs (and its
    // JVM's collections) do not land in the middle of the reads being compared.
    await phase({}, ({ owner, sender }) => [
      [
        {
          id: 'health',
          label: 'GET /health',
          method: 'GET',
          path: '/health',
          headers: {},
          status: 200,
        },
        scopes(sender, 'scopesWarm', 'GET /v3/scopes (cache warm)'),
        scopes(owner, 'scopesWarmOwner', 'GET /v3/scopes (warm, owner key)'),
      ],
      [
        {
          id: 'create',
          label: 'POST /v3/api_keys',
          method: 'POST',
          path: '/v3/api_keys',
          headers: { ...auth(owner), 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'bench', scopes: ['mail.send'] }),
          status: 201,
        },
      ],
    ]);
    await phase({ KEYGATE_AUTHORIZER_CACHE_TTL: '0' }, ({ sender }) => [
      [scopes(sender, 'scopesCacheOff', 'GET /v3/scopes (cache off)')],
    ]);

    const figures = new Map<Scenario['id'], HttpFigures>();
    for (const [scenario, list] of runs) {
      figures.set(scenario.id, {
        label: scenario.label,
        requestsPerSecond: median(list.map((r) => r.requestsPerSecond)),
        p50Ms: median(list.map((r) => r.p50Ms)),
        p99Ms: median(list.map((r) => r.p99Ms)),
        meanMs: median(list.map((r) => r.meanMs)),
        serverCpuUs: median(list.map((r) => r.serverCpuUs)),
        requests: list.reduce((sum, r) => sum + r.requests, 0),
        failures: list.reduce((sum, r) => sum + r.failures, 0),
        runs: list.map(({ requestsPerSecond, p50Ms, p99Ms, meanMs, serverCpuUs }) => ({
          requestsPerSecond,
          p50Ms,
          p99Ms,
          meanMs,
          serverCpuUs,
        })),
      });
    }
    const overHealth = (
      id: Scenario['id'],
      cost: (run: HttpFigures['runs'][number]) => number,
    ): RatioFigures => {
      const health = figures.get('health');
      const other = figures.get(id);
      const runs = (other?.runs ?? []).map((run, i) => {
        const paired = health?.runs[i];
        return paired ? cost(run) / cost(paired) : Number.NaN;
      });
      return {
        medianOfRuns: median(runs),
        runs,
        ofMedians: health && other ? cost(other) / cost(health) : Number.NaN,
      };
    };
    // Time per request: the inverse of throughput.
    const timePerRequest = (run: { requestsPerSecond: number }) => 1 / run.requestsPerSecond;
    return {
      seconds: options.seconds,
      connections: CONNECTIONS,
      repeats: options.repeats,
      warmupFailures,
      scenarios: ['health', 'scopesWarm', 'scopesWarmOwner', 'scopesCacheOff', 'create'].map(
        (id) => {
          const f = figures.get(id as Scenario['id']);
          if (!f) throw new Error(`scenario ${id} missing`);
          return f;
        },
      ),
      scopesWarmOverHealth: {
        sender: overHealth('scopesWarm', timePerRequest),
        owner: overHealth('scopesWarmOwner', timePerRequest),
        senderServerCpu: overHealth('scopesWarm', (run) => run.serverCpuUs),
      },
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
