import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ApiGatewayAuthorizerCache } from '../shared/adapters/aws/authorizer-cache.js';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.js';
import { DynamoKeyWarningStore } from '../shared/adapters/dynamodb/key-warnings.js';
import { DynamoKeyRepository } from '../shared/adapters/dynamodb/keys-repository.js';
import { OutboxMailer } from '../shared/adapters/local/outbox-mailer.js';
import { resilientAuthorizerCache } from '../shared/adapters/resilient-authorizer-cache.js';
import { ConfigError, loadDeploymentSpec } from '../shared/deployment/load.js';
import { bootstrapAccount } from '../shared/domain/accounts.js';
import {
  type Caller,
  createApiKey,
  deleteApiKey,
  getApiKey,
  listApiKeys,
  replaceApiKey,
} from '../shared/domain/api-keys.js';
import { KeygateError } from '../shared/domain/errors.js';
import {
  enableKeyByOperator,
  type KeyWarningStore,
  scanKeyWarnings,
  warningSettings,
} from '../shared/domain/key-warnings.js';
import type { Limits } from '../shared/domain/limits.js';
import type { AuditEvent, AuthorizerCache, Deps, KeyRepository } from '../shared/domain/ports.js';
import { rollApiKey } from '../shared/domain/roll-and-revoke.js';
import {
  setAccountDisabledByOperator,
  setAccountPlanByOperator,
} from '../shared/domain/subusers.js';
import { createdView, limitsView, listView, rolledView } from '../shared/http/wire/api-keys.js';
import { lifecycleEvent } from '../shared/http/wire/audit.js';
import { createLogger } from '../shared/observability/logger.js';
import { configFromEnv } from '../shared/runtime/config.js';
import { activeDeployment, useDeployment } from '../shared/runtime/deployment.js';
import { tableNames } from '../shared/tables.js';
import { dataDirFromEnv, FLUSH_CONTROL_PATH, readRuntimeInfo } from './runtime-file.js';

/**
 * `keygate`: operator commands for accounts and keys, against the running local instance (found
 * through its data directory) or a deployed stack (`--stack NAME`: table names from the stack's
 * outputs, credentials from the standard AWS chain). Bad arguments print usage and exit 2;
 * failures print one line and exit 1.
 */

export const USAGE = `Usage:
  keygate bootstrap --account NAME [--key-limit N] [--max-key-lifetime SECONDS] [--subuser-limit N] [--plan PLAN] [--json]
  keygate accounts list [--json]
  keygate accounts disable --account NAME
  keygate accounts enable --account NAME
  keygate accounts set-plan --account NAME --plan PLAN
  keygate keys list --account NAME [--json]
  keygate keys create --account NAME --name NAME [--scopes a,b,…] [LIMITS] [--json]
  keygate keys set-limits --account NAME --id API_KEY_ID (LIMITS | --no-limits)
  keygate keys delete --account NAME --id API_KEY_ID
  keygate keys roll --account NAME --id API_KEY_ID [--grace-seconds N] [--json]
  keygate keys enable --account NAME --id API_KEY_ID
  keygate warnings scan [--now ISO_TIME] [--json]
  keygate outbox [--json]
  keygate events [--account NAME] [--json]

LIMITS: [--rate PER_SECOND/BURST] [--per-day N] [--per-month N], the key's own limits (where the
deployment declares plans).

Targets the local instance of KEYGATE_DATA_DIR (default .keygate) unless --stack NAME is given.`;

export class UsageError extends Error {}

const OPTIONS = {
  account: { type: 'string' },
  'key-limit': { type: 'string' },
  'max-key-lifetime': { type: 'string' },
  'subuser-limit': { type: 'string' },
  plan: { type: 'string' },
  'grace-seconds': { type: 'string' },
  rate: { type: 'string' },
  'per-day': { type: 'string' },
  'per-month': { type: 'string' },
  'no-limits': { type: 'boolean' },
  name: { type: 'string' },
  scopes: { type: 'string' },
  id: { type: 'string' },
  stack: { type: 'string' },
  now: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Options = ReturnType<typeof parse>['values'];

/**
 * Key IDs are base64url, so one in 64 starts with `-`; parseArgs would read `--id -abc` as a
 * missing value. A string option takes the next token literally, unless that token is one of
 * the CLI's own options (or `--`): then the value is missing, and parseArgs says so.
 */
function bindOptionValues(argv: string[]): string[] {
  const bound: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    const name = token.startsWith('--') && !token.includes('=') ? token.slice(2) : '';
    const option = OPTIONS[name as keyof typeof OPTIONS];
    const next = argv[i + 1];
    if (option?.type === 'string' && next !== undefined && !isOptionToken(next)) {
      bound.push(`${token}=${argv[++i]}`);
    } else {
      bound.push(token);
    }
  }
  return bound;
}

function isOptionToken(token: string): boolean {
  if (token === '--' || token === '-h') return true;
  return token.startsWith('--') && (token.slice(2).split('=')[0] as string) in OPTIONS;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: bindOptionValues(argv),
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Runs one CLI invocation; resolves to the process exit code. */
export async function runCli(
  argv: string[],
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  err: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<number> {
  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      out(USAGE);
      return 0;
    }
    const command = positionals.join(' ');
    const handler = COMMANDS[command];
    if (!handler)
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
    await handler(values, out);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`keygate: ${error.message}`);
      err(USAGE);
      return 2;
    }
    const message =
      error instanceof KeygateError
        ? error.errors.map((e) => e.message).join('; ')
        : error instanceof Error
          ? error.message
          : String(error);
    err(`keygate: ${message.split('\n')[0]}`);
    return 1;
  }
}

function required(values: Options, name: 'account' | 'name' | 'id' | 'plan'): string {
  const value = values[name];
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

/** Where the commands act: tables, and how to flush the gateway's authorizer cache. */
interface Target {
  deps: Deps;
  /** The key warnings' storage, on the same tables. */
  warnings: KeyWarningStore;
  describe: string;
}

async function target(values: Options): Promise<Target> {
  // The scopes keys may hold: the running instance's (it wrote its deployment down), else the
  // team's config here (the one that was deployed), else SendGrid's.
  const local = values.stack ? undefined : readRuntimeInfo(dataDirFromEnv());
  if (local?.deployment) useDeployment(local.deployment);
  else {
    try {
      const loaded = await loadDeploymentSpec();
      useDeployment(loaded.spec, loaded.configDir);
    } catch (error) {
      if (error instanceof ConfigError) throw new Error(error.message);
      throw error;
    }
  }
  const config = configFromEnv({
    ...process.env,
    KEYGATE_KEYS_TABLE: 'x',
    KEYGATE_ACCOUNTS_TABLE: 'x',
    KEYGATE_AUDIT_TABLE: 'x',
  });
  const logger = createLogger({}, (line) => process.stderr.write(`${line}\n`));
  if (values.stack) {
    const outputs = await stackOutputs(values.stack);
    const keys = outputs.KeysTableName;
    const accounts = outputs.AccountsTableName;
    const audit = outputs.AuditTableName;
    if (!keys || !accounts || !audit) {
      throw new Error(
        `stack ${values.stack} has no KeysTableName/AccountsTableName/AuditTableName outputs`,
      );
    }
    const client = createDocumentClient({ region: config.region });
    // The deployment's own settings, so keys made here match the ones its API makes.
    if (outputs.KeyPrefix) config.keyPrefix = outputs.KeyPrefix;
    if (outputs.DefaultKeyLimit) config.defaultKeyLimit = Number(outputs.DefaultKeyLimit);
    const cache: AuthorizerCache =
      outputs.RestApiId && outputs.StageName
        ? new ApiGatewayAuthorizerCache(outputs.RestApiId, outputs.StageName)
        : { flush: async () => {} };
    return {
      describe: `stack ${values.stack}`,
      warnings: new DynamoKeyWarningStore(client, { keys, accounts, audit }),
      deps: makeDeps(
        new DynamoKeyRepository(client, { keys, accounts, audit }),
        config,
        resilientAuthorizerCache(cache, logger),
      ),
    };
  }
  const dataDir = dataDirFromEnv();
  const info = readRuntimeInfo(dataDir);
  if (!info) {
    throw new Error(
      `no local Keygate is running for ${dataDir}: start it with npm start, or pass --stack NAME`,
    );
  }
  const client = createDocumentClient({ region: 'local', endpoint: info.dynamodbEndpoint });
  const cache: AuthorizerCache = {
    async flush() {
      const res = await fetch(`${info.url}${FLUSH_CONTROL_PATH}`, {
        method: 'POST',
        headers: { 'x-keygate-control': info.controlToken },
      });
      if (res.status !== 204) throw new Error(`local flush answered ${res.status}`);
    },
  };
  return {
    describe: info.url,
    warnings: new DynamoKeyWarningStore(client, tableNames(info.tablePrefix)),
    deps: makeDeps(
      new DynamoKeyRepository(client, tableNames(info.tablePrefix)),
      config,
      resilientAuthorizerCache(cache, logger),
    ),
  };
}

function makeDeps(
  repo: KeyRepository,
  config: Deps['config'],
  authorizerCache: AuthorizerCache,
): Deps {
  return {
    repo,
    config,
    now: () => new Date(),
    authorizerCache,
    mailer: {
      send: async () => {
        throw new Error('the CLI does not send mail');
      },
      canSendFrom: () => false,
      canUseTemplate: () => false,
    },
  };
}

async function stackOutputs(stack: string): Promise<Record<string, string>> {
  const client = new CloudFormationClient({});
  const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stack }));
  const outputs: Record<string, string> = {};
  for (const o of Stacks?.[0]?.Outputs ?? []) {
    if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] = o.OutputValue;
  }
  return outputs;
}

/** Operators act as the account's owner key (without holding the key itself). */
async function ownerOf(deps: Deps, accountName: string): Promise<Caller> {
  const accountId = await deps.repo.findAccountIdByName(accountName);
  const account = accountId ? await deps.repo.getAccount(accountId) : undefined;
  if (!account) throw new Error(`no account named "${accountName}"`);
  return {
    accountId: account.accountId,
    // A subuser has no owner key: the audit log then records the operator as no key at all.
    keyId: account.ownerKeyId ?? '-',
    ...(account.ownerKeyId === undefined ? { operator: true } : {}),
    type: 'owner',
    scopes: deps.config.catalogue.all,
  };
}

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: KeygateError }): T {
  if (!result.ok) throw result.error;
  return result.value;
}

async function bootstrap(values: Options, out: (line: string) => void) {
  const name = required(values, 'account');
  const keyLimit = integerOption(values, 'key-limit');
  const lifetime = integerOption(values, 'max-key-lifetime');
  const subuserLimit = integerOption(values, 'subuser-limit');
  const { deps } = await target(values);
  const created = unwrap(
    await bootstrapAccount(deps, {
      name,
      ...(keyLimit === undefined ? {} : { keyLimit }),
      ...(subuserLimit === undefined ? {} : { subuserLimit }),
      ...(lifetime === undefined ? {} : { maxKeyLifetimeSeconds: lifetime }),
      // The account's plan: one of the config's plans limits it (docs/limits.md).
      ...(values.plan === undefined ? {} : { plan: values.plan }),
    }),
  );
  if (values.json) {
    out(JSON.stringify({ account_id: created.accountId, api_key: created.apiKey }));
    return;
  }
  out(
    `Created the account "${name}" (${created.accountId}). Its owner key, which holds every scope:`,
  );
  out(`  ${created.apiKey}`);
  out('Store it now: it will not be shown again.');
}

async function listKeys(values: Options, out: (line: string) => void) {
  const { deps } = await target(values);
  const owner = await ownerOf(deps, required(values, 'account'));
  // The same JSON as the API's list.
  const { result } = listView(unwrap(await listApiKeys(deps, owner, {})));
  if (values.json) {
    out(JSON.stringify(result));
    return;
  }
  for (const key of result)
    out(`${key.api_key_id}  ${key.type.padEnd(7)}  ${key.created_at}  ${key.name}`);
}

async function createKey(values: Options, out: (line: string) => void) {
  const name = required(values, 'name');
  const scopes = values.scopes
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const limits = limitsOption(values);
  const { deps } = await target(values);
  const owner = await ownerOf(deps, required(values, 'account'));
  const created = createdView(
    unwrap(
      await createApiKey(deps, owner, {
        name,
        ...(scopes ? { scopes } : {}),
        ...(limits ? { limits } : {}),
      }),
    ),
  );
  if (values.json) {
    out(JSON.stringify(created));
    return;
  }
  out(`Created "${created.name}" (${created.api_key_id}) with ${created.scopes.length} scopes:`);
  out(`  ${created.api_key}`);
  out('Store it now: it will not be shown again.');
}

/** Sets or clears a key's own limits, keeping its name and scopes (a PUT of the key). */
async function setKeyLimits(values: Options, out: (line: string) => void) {
  const id = required(values, 'id');
  const limits = limitsOption(values);
  if ((limits === undefined) === (values['no-limits'] !== true)) {
    throw new UsageError('give --rate, --per-day or --per-month, or --no-limits');
  }
  const { deps, describe } = await target(values);
  const owner = await ownerOf(deps, required(values, 'account'));
  const key = unwrap(await getApiKey(deps, owner, id));
  const replaced = unwrap(
    await replaceApiKey(deps, owner, id, {
      name: key.name,
      scopes: key.scopes,
      limits: limits ?? null,
    }),
  );
  const shown = limitsView(replaced.limits);
  out(
    `Limits of "${replaced.name}" (${id}) on ${describe}: ${Object.keys(shown).length === 0 ? 'none of its own' : JSON.stringify(shown)}; they apply from its next request.`,
  );
}

/** `--rate 5/10 --per-day 1000 --per-month 30000`: a key's own limits, checked by the domain. */
function limitsOption(values: Options): Limits | undefined {
  const { rate, 'per-day': perDay, 'per-month': perMonth } = values;
  if (rate === undefined && perDay === undefined && perMonth === undefined) return undefined;
  const parsedRate = rate === undefined ? undefined : /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(rate);
  if (rate !== undefined && !parsedRate) {
    throw new UsageError('--rate must be PER_SECOND/BURST, e.g. 5/10');
  }
  const count = (raw: string | undefined, name: string) => {
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number`);
    return Number(raw);
  };
  const day = count(perDay, 'per-day');
  const month = count(perMonth, 'per-month');
  return {
    ...(parsedRate
      ? { rate: { perSecond: Number(parsedRate[1]), burst: Number(parsedRate[2]) } }
      : {}),
    ...(day === undefined && month === undefined
      ? {}
      : {
          quota: {
            ...(day === undefined ? {} : { perDay: day }),
            ...(month === undefined ? {} : { perMonth: month }),
          },
        }),
  };
}

async function deleteKey(values: Options, out: (line: string) => void) {
  const id = required(values, 'id');
  const { deps, describe } = await target(values);
  const owner = await ownerOf(deps, required(values, 'account'));
  unwrap(await deleteApiKey(deps, owner, id));
  out(`Deleted ${id} on ${describe}; it is refused from the next request.`);
}

async function rollKey(values: Options, out: (line: string) => void) {
  const id = required(values, 'id');
  const grace = integerOption(values, 'grace-seconds');
  const { deps } = await target(values);
  const owner = await ownerOf(deps, required(values, 'account'));
  const rolled = rolledView(
    unwrap(await rollApiKey(deps, owner, id, grace === undefined ? {} : { graceSeconds: grace })),
  );
  if (values.json) {
    out(JSON.stringify(rolled));
    return;
  }
  out(`Rolled "${rolled.name}" (${rolled.api_key_id}). Its new key:`);
  out(`  ${rolled.api_key}`);
  out('Store it now: it will not be shown again.');
  out(
    rolled.previous_key_valid_until
      ? `The old key works until ${rolled.previous_key_valid_until}.`
      : 'The old key is refused from now on.',
  );
}

function integerOption(
  values: Options,
  name: 'key-limit' | 'max-key-lifetime' | 'grace-seconds' | 'subuser-limit',
) {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number`);
  return Number(raw);
}

/** Every account, parents and subusers, with its state (a scan: operators only). */
async function listAccounts(values: Options, out: (line: string) => void) {
  const { deps } = await target(values);
  const accounts = await deps.repo.listAccounts();
  const names = new Map(accounts.map((a) => [a.accountId, a.name]));
  const rows = accounts.map((a) => ({
    name: a.name,
    account_id: a.accountId,
    parent:
      a.parentAccountId === undefined ? null : (names.get(a.parentAccountId) ?? a.parentAccountId),
    state: a.deleting ? 'deleting' : a.disabled ? 'disabled' : 'active',
    keys: a.keyCount,
    key_limit: a.keyLimit,
    ...(a.parentAccountId === undefined
      ? {
          subusers: a.subuserCount ?? 0,
          subuser_limit: a.subuserLimit ?? deps.config.defaultSubuserLimit,
        }
      : {}),
  }));
  if (values.json) {
    out(JSON.stringify(rows));
    return;
  }
  if (rows.length === 0) out('No accounts.');
  for (const r of rows) {
    const kind =
      r.parent === null
        ? `parent, ${r.subusers}/${r.subuser_limit} subusers`
        : `subuser of ${r.parent}`;
    out(
      `${r.name.padEnd(24)}  ${r.state.padEnd(8)}  ${r.keys}/${r.key_limit} keys  ${kind}  ${r.account_id}`,
    );
  }
}

/** Disables or enables any account: its keys are refused (or work again) from the next request. */
function setDisabled(disabled: boolean) {
  return async function setAccountState(values: Options, out: (line: string) => void) {
    const name = required(values, 'account');
    const { deps, describe } = await target(values);
    unwrap(await setAccountDisabledByOperator(deps, name, disabled));
    out(
      disabled
        ? `Disabled "${name}" on ${describe}: its keys are refused from the next request.`
        : `Enabled "${name}" on ${describe}: its keys work again.`,
    );
  };
}

/** Puts any account on another plan (the config's plans decide what it allows). */
async function setPlan(values: Options, out: (line: string) => void) {
  const name = required(values, 'account');
  const plan = required(values, 'plan');
  const { deps, describe } = await target(values);
  unwrap(await setAccountPlanByOperator(deps, name, plan));
  out(`Put "${name}" on plan "${plan}" on ${describe}: it applies within 30 seconds.`);
}

async function outbox(values: Options, out: (line: string) => void) {
  const info = readRuntimeInfo(dataDirFromEnv());
  const dir = info?.outboxDir ?? `${dataDirFromEnv()}/outbox`;
  const messages = await new OutboxMailer(dir).list();
  if (values.json) {
    out(JSON.stringify(messages));
    return;
  }
  if (messages.length === 0) out('The outbox is empty.');
  for (const m of messages) {
    const to = m.payload.personalizations.flatMap((p) => p.to.map((r) => r.email)).join(', ');
    const subject = m.payload.subject ?? m.payload.personalizations[0]?.subject ?? '';
    out(
      `${m.acceptedAt}  ${m.messageId}  from ${m.payload.from?.email ?? '?'} to ${to}  ${subject}`,
    );
  }
}

/** How many recent events `keygate events` shows. */
export const RECENT_EVENTS = 50;

/**
 * The recent lifecycle events, newest first, as the deployment's bus carries them (`source`,
 * `detail-type`, `time`, `detail`: docs/events.md), read from the audit log: of one account, or
 * of every account (a scan of the accounts, then a query each: operators only).
 */
async function events(values: Options, out: (line: string) => void) {
  const { deps } = await target(values);
  const accountIds =
    values.account === undefined
      ? (await deps.repo.listAccounts()).map((a) => a.accountId)
      : [(await ownerOf(deps, values.account)).accountId];
  const recent: AuditEvent[] = [];
  for (const accountId of accountIds) {
    recent.push(...(await deps.repo.listEvents(accountId, { limit: RECENT_EVENTS })).events);
  }
  // Event IDs start with their RFC 3339 time: they sort by time.
  recent.sort((a, b) => (a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0));
  const entries = recent.slice(0, RECENT_EVENTS).map((e) => {
    const event = lifecycleEvent(e);
    return {
      source: event.source,
      'detail-type': event.detailType,
      time: event.time,
      detail: event.detail,
    };
  });
  if (values.json) {
    out(JSON.stringify(entries));
    return;
  }
  if (entries.length === 0) out('No events.');
  for (const { time, 'detail-type': type, detail } of entries) {
    const scopes = [
      ...detail.scopes_added.map((s) => `+${s}`),
      ...detail.scopes_removed.map((s) => `-${s}`),
    ].join(' ');
    out(
      `${time}  ${type.padEnd(26)}  account ${detail.account_id}  key ${detail.api_key_id}${scopes ? `  ${scopes}` : ''}`,
    );
  }
}

/**
 * Enables a key the unused-key scan disabled (`warnings.disableUnused`): it works again from the
 * next request, and is not disabled again until it has been used and is idle again.
 */
async function enableKey(values: Options, out: (line: string) => void) {
  const id = required(values, 'id');
  const { deps, warnings, describe } = await target(values);
  const owner = await ownerOf(deps, required(values, 'account'));
  const outcome = await enableKeyByOperator(
    { now: deps.now, store: warnings, authorizerCache: deps.authorizerCache },
    owner.accountId,
    id,
  );
  if (outcome === 'not_found') throw new Error(`no key ${id} in the account "${values.account}"`);
  if (outcome === 'not_disabled') throw new Error(`the key ${id} is not disabled`);
  out(`Enabled ${id} on ${describe}: it works again from the next request.`);
}

/**
 * Runs the key-warnings scan once, as the scheduled function does on AWS (docs/limits.md#warnings):
 * the warnings due at `--now` (default: now; a later time shows what will be due then) are
 * recorded, each once, and unused keys disabled where the config says.
 */
async function scanWarnings(values: Options, out: (line: string) => void) {
  const now = values.now === undefined ? undefined : Date.parse(values.now);
  if (now !== undefined && (Number.isNaN(now) || !/^\d{4}-\d\d-\d\dT/.test(values.now ?? ''))) {
    throw new UsageError('--now must be an ISO 8601 time, like 2026-12-03T12:00:00Z');
  }
  const { deps, warnings, describe } = await target(values);
  const settings = warningSettings(activeDeployment().spec.warnings);
  const outcome = await scanKeyWarnings(
    { now: deps.now, store: warnings, authorizerCache: deps.authorizerCache },
    settings,
    now === undefined ? deps.now() : new Date(now),
  );
  if (values.json) {
    out(JSON.stringify(outcome));
    return;
  }
  out(
    `Scanned ${outcome.scanned} keys on ${describe}: ${outcome.expiryWarnings} expiry warning(s), ${outcome.unusedWarnings} unused warning(s), ${outcome.disabled} key(s) disabled.`,
  );
}

const COMMANDS: Record<string, (values: Options, out: (line: string) => void) => Promise<void>> = {
  bootstrap,
  'accounts list': listAccounts,
  'accounts disable': setDisabled(true),
  'accounts enable': setDisabled(false),
  'accounts set-plan': setPlan,
  'keys list': listKeys,
  'keys create': createKey,
  'keys set-limits': setKeyLimits,
  'keys delete': deleteKey,
  'keys roll': rollKey,
  'keys enable': enableKey,
  'warnings scan': scanWarnings,
  outbox,
  events,
};
