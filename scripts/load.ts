/**
 * `npm run load`: autocannon against `npm start`'s server (its own process, a fresh data
 * directory) for LOAD_SECONDS (default 60): verify-heavy reads mixed with creates and deletes.
 * Prints requests, errors, unexpected statuses, latency and the server's RSS before and after;
 * exits 1 when a target is missed (any error, any unexpected status, RSS growth of 10 % or more
 * after warm-up).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon, { type Request } from 'autocannon';
import { freePort } from '../local/dynamodb-local.js';
import { startInstance } from '../test/helpers/local-instance.js';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const WARMUP_SECONDS = Math.min(10, Math.max(2, Math.round(SECONDS / 6)));
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 10);

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

interface Counts {
  unexpected: Map<string, number>;
}

/**
 * One connection's loop: three reads that go through the authorizer (two cached, one cache miss
 * after each create), then a create and the delete of what it created.
 */
function scenario(owner: string, reader: string, counts: Counts): Request[] {
  const auth = (key: string) => ({
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
  });
  const expect = (label: string, wanted: number) => (status: number) => {
    if (status !== wanted) {
      const name = `${label} ${status}`;
      counts.unexpected.set(name, (counts.unexpected.get(name) ?? 0) + 1);
    }
  };
  const read = (path: string, key: string): Request => ({
    method: 'GET',
    path,
    headers: auth(key),
    onResponse: expect(`GET ${path}`, 200),
  });
  return [
    read('/v3/scopes', reader),
    read('/v3/api_keys?limit=10', reader),
    read('/v3/scopes', owner),
    {
      method: 'POST',
      path: '/v3/api_keys',
      headers: auth(owner),
      body: JSON.stringify({ name: 'load', scopes: ['mail.send'] }),
      onResponse: (status, body, context) => {
        expect('POST /v3/api_keys', 201)(status);
        if (status === 201) {
          (context as { id?: string }).id = (JSON.parse(body) as { api_key_id: string }).api_key_id;
        }
      },
    },
    {
      method: 'DELETE',
      headers: auth(owner),
      setupRequest: (request, context) => ({
        ...request,
        path: `/v3/api_keys/${String((context as { id?: string }).id)}`,
      }),
      onResponse: expect('DELETE /v3/api_keys/{id}', 204),
    },
  ];
}

async function run(url: string, seconds: number, requests: Request[]) {
  return autocannon({ url, connections: CONNECTIONS, duration: seconds, requests });
}

const dataDir = mkdtempSync(join(tmpdir(), 'keygate-load-'));
const instance = await startInstance(dataDir, await freePort());
try {
  const owner = /^\s+(SG\.\S+)$/m.exec(instance.output())?.[1] ?? '';
  const created = await fetch(`${instance.url}/v3/api_keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'reader', scopes: ['api_keys.read'] }),
  });
  const reader = ((await created.json()) as { api_key: string }).api_key;
  const pid = instance.process.pid ?? 0;

  const warm: Counts = { unexpected: new Map() };
  await run(instance.url, WARMUP_SECONDS, scenario(owner, reader, warm));
  const rssBefore = rssKb(pid);
  const counts: Counts = { unexpected: new Map() };
  const result = await run(instance.url, SECONDS, scenario(owner, reader, counts));
  const rssAfter = rssKb(pid);

  const unexpected = [...counts.unexpected.values()].reduce((a, b) => a + b, 0);
  const growth = (rssAfter - rssBefore) / rssBefore;
  const figures = {
    seconds: SECONDS,
    connections: CONNECTIONS,
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    errors: result.errors + result.timeouts,
    unexpectedStatuses: unexpected,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    rssMiB: { afterWarmup: +(rssBefore / 1024).toFixed(1), after: +(rssAfter / 1024).toFixed(1) },
    rssGrowthPercent: +(growth * 100).toFixed(1),
  };
  console.log(JSON.stringify(figures, null, 2));
  if (unexpected > 0) console.log('unexpected statuses:', Object.fromEntries(counts.unexpected));
  const missed: string[] = [];
  if (figures.errors > 0) missed.push(`${figures.errors} errors`);
  if (unexpected > 0) missed.push(`${unexpected} unexpected statuses`);
  if (growth >= 0.1) missed.push(`RSS grew ${figures.rssGrowthPercent} %`);
  console.log(
    missed.length === 0 ? 'load: all targets met' : `load: targets missed: ${missed.join(', ')}`,
  );
  process.exitCode = missed.length === 0 ? 0 : 1;
} finally {
  await instance.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
