import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../infra/constructs/bundling.js';
import { teamWrapperEntry } from '../../infra/constructs/team-routes.js';
import { deploymentOf, specFromConfig } from '../../shared/deployment/deployment.js';
import { policyFor } from '../../shared/gateway/policy.js';
import { bundleEntries, importMilliseconds, lambdaEnvironment, turnOrder } from './cold-start.js';
import { median } from './stats.js';

/** What a team's routes cost: the authorizer's answer at 50 routes, and the wrapper's import. */
export interface TeamRoutesFigures {
  routes: number;
  /** The deployment spec every bundle carries (esbuild `define`), bytes. */
  specBytes: number;
  /** One key's policy for one route, bytes (the same at any number of routes). */
  policyBytes: number;
  /** The whole authorizer result for a key holding every team scope, bytes (limit 8 KB). */
  resultBytes: number;
  /** Minified bundle of a trivial team handler, unwrapped and wrapped, bytes. */
  bundleBytes: { unwrapped: number; wrapped: number };
  /** Median fresh-process import, milliseconds. */
  importMs: { unwrapped: number; wrapped: number };
}

const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod';

/**
 * A config of `count` team routes over 10 areas (nested paths, shared prefixes), its spec, and
 * the authorizer's answer for one of them; then a trivial team handler bundled as deployed, on
 * its own and inside Keygate's wrapper, imported by fresh Node processes taking turns.
 */
export async function measureTeamRoutes(
  options: { routes?: number; repeats?: number } = {},
): Promise<TeamRoutesFigures> {
  const count = options.routes ?? 50;
  const repeats = options.repeats ?? 7;
  const areas = Array.from({ length: 10 }, (_, a) => ({
    id: `area${a}`,
    label: `Area ${a}`,
    scopes: [`area${a}.read`, `area${a}.create`, `area${a}.delete`],
  }));
  const routes = Array.from({ length: count }, (_, i) => {
    const area = areas[i % areas.length]?.id ?? 'area0';
    const depth = Math.floor(i / areas.length);
    return {
      method: (['GET', 'POST', 'DELETE'] as const)[depth % 3] ?? 'GET',
      path: `/v1/${area}/{id}${'/sub'.repeat(depth)}`,
      scopes: [`${area}.read`, ...(depth % 2 === 1 ? [`${area}.create`] : [])],
      handler: './handler.ts',
    };
  });
  const built = specFromConfig(
    { areas, routes },
    { file: 'bench', handlerExists: () => true, lock: [] },
  );
  if (!built.ok) throw new Error(built.error);
  const deployment = deploymentOf(built.spec);
  const route = deployment.teamRoutes.at(-1);
  const allTeamScopes = areas.flatMap((a) => a.scopes).sort();
  const policy = policyFor(STAGE, { type: 'general', scopes: allTeamScopes }, route);
  const result = {
    principalId: 'x'.repeat(22),
    policyDocument: policy,
    context: {
      accountId: 'x'.repeat(22),
      keyId: 'x'.repeat(22),
      type: 'general',
      scopes: allTeamScopes.join(' '),
      expiresAt: '',
      secret: 'current',
      allowedIps: '',
    },
  };

  const work = mkdtempSync(join(tmpdir(), 'keygate-bench-team-'));
  const cache = join(REPO_ROOT, 'node_modules', '.cache', 'keygate', 'bench-team');
  let wrapper: string | undefined;
  try {
    mkdirSync(cache, { recursive: true });
    const handler = join(cache, 'handler.ts');
    writeFileSync(
      handler,
      'export const handler = async () => ({ statusCode: 200, body: \'{"ok":true}\' });\n',
    );
    wrapper = teamWrapperEntry(
      { ...(route ?? deployment.routes[0]), handler: './handler.ts' } as never,
      cache,
      REPO_ROOT,
    );
    const bundles = await bundleEntries(
      [
        { name: 'unwrapped', entry: handler },
        { name: 'wrapped', entry: wrapper },
      ],
      work,
    );
    const env = lambdaEnvironment(true);
    const times: Record<'unwrapped' | 'wrapped', number[]> = { unwrapped: [], wrapped: [] };
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const name of turnOrder(['unwrapped', 'wrapped'] as const, repeat)) {
        times[name].push(await importMilliseconds(bundles.get(name) ?? '', env));
      }
    }
    const size = (name: string) => statSync(bundles.get(name) ?? '').size;
    return {
      routes: count,
      specBytes: Buffer.byteLength(JSON.stringify(built.spec)),
      policyBytes: Buffer.byteLength(JSON.stringify(policy)),
      resultBytes: Buffer.byteLength(JSON.stringify(result)),
      bundleBytes: { unwrapped: size('unwrapped'), wrapped: size('wrapped') },
      importMs: { unwrapped: median(times.unwrapped), wrapped: median(times.wrapped) },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
    if (wrapper) rmSync(wrapper, { force: true });
  }
}

/** `npx tsx scripts/bench/team-routes.ts`: the figures alone. */
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureTeamRoutes(), null, 2));
}
