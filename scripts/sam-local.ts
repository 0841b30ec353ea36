/**
 * `npx tsx scripts/sam-local.ts [--dynamodb URL] [--account NAME] [--out FILE]`: the host-side
 * half of docs/deploy.md's `sam local start-api` recipe (see "SAM and LocalStack").
 *
 * 1. Creates Keygate's tables (`shared/tables.ts`) in the DynamoDB Local container, reached from
 *    the host at `--dynamodb` (default `http://127.0.0.1:8000`, the port the recipe publishes).
 * 2. Writes SAM's `--env-vars` file (default `sam-env.json`): one `Parameters` object that points
 *    every function at that container by its name on the recipe's Docker network and at those
 *    tables (`samEnvVars`, infra/local-recipes.ts).
 * 3. With `--account NAME`, bootstraps that account and prints its owner key, once.
 *
 * It needs no AWS credentials and talks to nothing but that endpoint.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SAM_LOCAL, samEnvVars, samTableNames } from '../infra/local-recipes.js';
import { ensureTables } from '../local/dynamodb-local.js';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.js';
import { DynamoKeyRepository } from '../shared/adapters/dynamodb/keys-repository.js';
import { loadDeploymentSpec } from '../shared/deployment/load.js';
import { bootstrapAccount } from '../shared/domain/accounts.js';
import type { Deps } from '../shared/domain/ports.js';
import { configFromEnv } from '../shared/runtime/config.js';
import { useDeployment } from '../shared/runtime/deployment.js';

export const SAM_LOCAL_USAGE =
  'Usage: npx tsx scripts/sam-local.ts [--dynamodb URL] [--account NAME] [--out FILE]';

export async function samLocal(argv: readonly string[], out: (line: string) => void) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      dynamodb: { type: 'string', default: `http://127.0.0.1:${SAM_LOCAL.dynamodbPort}` },
      account: { type: 'string' },
      out: { type: 'string', default: SAM_LOCAL.envFile },
    },
    strict: true,
  });
  const endpoint = values.dynamodb;
  const tables = await ensureTables(endpoint, SAM_LOCAL.tablePrefix);
  writeFileSync(values.out, `${JSON.stringify(samEnvVars(), null, 2)}\n`);
  out(`Tables ${Object.values(tables).join(', ')} ready at ${endpoint}; wrote ${values.out}.`);
  if (values.account === undefined) return;

  // The scopes keys may hold: the config the template was synthesized from.
  const loaded = await loadDeploymentSpec();
  useDeployment(loaded.spec, loaded.configDir);
  const names = samTableNames();
  const deps: Deps = {
    repo: new DynamoKeyRepository(createDocumentClient({ region: 'local', endpoint }), names),
    config: configFromEnv({
      KEYGATE_KEYS_TABLE: names.keys,
      KEYGATE_ACCOUNTS_TABLE: names.accounts,
      KEYGATE_AUDIT_TABLE: names.audit,
    }),
    now: () => new Date(),
    authorizerCache: { flush: async () => {} },
    mailer: {
      send: async () => {
        throw new Error('sam-local sends no mail');
      },
      canSendFrom: () => false,
      canUseTemplate: () => false,
    },
  };
  const created = await bootstrapAccount(deps, { name: values.account });
  if (!created.ok) throw created.error;
  out(`Created the account "${values.account}". Its owner key, which holds every scope:`);
  out(`  ${created.value.apiKey}`);
  out('Store it now: it will not be shown again.');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  samLocal(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`)).catch(
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.stderr.write(`${SAM_LOCAL_USAGE}\n`);
      process.exitCode = 1;
    },
  );
}
