import { type TableNames, tableNames } from '../shared/tables.js';

/**
 * What docs/deploy.md's `sam local start-api` recipe relies on, in one place: the construct declares
 * these variables on every function, `scripts/sam-local.ts` writes the `--env-vars` file from
 * them, and the tests check the synthesized template and that page's text against them. No
 * CDK import, so the script and the unit tests can read it.
 *
 * SAM overrides only the environment variables a function declares in the template, with the
 * file's global `Parameters` object or one per function
 * (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-using-start-api.html,
 * "Environment variable file"; SAM CLI's `EnvironmentVariables.resolve` iterates only the
 * template's variables). The table names are `Ref`s to the deployed tables, which a local run
 * does not have, so they must be overridden too.
 */
export const SAM_LOCAL = {
  /** The Docker network the functions' containers and DynamoDB Local share (`--docker-network`). */
  network: 'keygate-sam',
  /** DynamoDB Local's container: its name is its host name on that network. */
  dynamodbContainer: 'keygate-dynamodb',
  /** DynamoDB Local's port, in its container and published on the host's 127.0.0.1. */
  dynamodbPort: 8000,
  /** Prefix of the tables the script creates there. */
  tablePrefix: 'keygate-sam',
  /** The `--env-vars` file the script writes. */
  envFile: 'sam-env.json',
} as const;

/**
 * Declared by every Keygate function so that `sam local --env-vars` can set it. On AWS the
 * endpoint is declared empty, which the runtime's config reads as unset
 * (`shared/runtime/config.ts`: `KEYGATE_DYNAMODB_ENDPOINT || undefined`); set, it points the
 * DynamoDB client at DynamoDB Local with fixed dummy credentials, so a local run never signs
 * with the developer's real AWS credentials (SAM passes those through to the containers).
 */
export const SAM_DYNAMODB_ENDPOINT_ENV = 'KEYGATE_DYNAMODB_ENDPOINT';

/** The variables the recipe overrides that every function declares. */
export const SAM_OVERRIDDEN_ENV = [
  SAM_DYNAMODB_ENDPOINT_ENV,
  'KEYGATE_KEYS_TABLE',
  'KEYGATE_ACCOUNTS_TABLE',
  'KEYGATE_AUDIT_TABLE',
] as const;

/**
 * Declared only by the functions that flush API Gateway's authorizer cache (a `Ref` to the
 * API). Set empty locally: there is no API Gateway to flush, and an empty ID turns the flush off.
 */
export const SAM_REST_API_ID_ENV = 'KEYGATE_REST_API_ID';

/** The table names the script creates in DynamoDB Local. */
export function samTableNames(): TableNames {
  return tableNames(SAM_LOCAL.tablePrefix);
}

/** DynamoDB Local as the functions' containers reach it, on the shared Docker network. */
export function samContainerEndpoint(): string {
  return `http://${SAM_LOCAL.dynamodbContainer}:${SAM_LOCAL.dynamodbPort}`;
}

/** The `--env-vars` file: one global `Parameters` object, applied to every function. */
export function samEnvVars(): { Parameters: Record<string, string> } {
  const tables = samTableNames();
  const values: Record<(typeof SAM_OVERRIDDEN_ENV)[number], string> = {
    KEYGATE_DYNAMODB_ENDPOINT: samContainerEndpoint(),
    KEYGATE_KEYS_TABLE: tables.keys,
    KEYGATE_ACCOUNTS_TABLE: tables.accounts,
    KEYGATE_AUDIT_TABLE: tables.audit,
  };
  return { Parameters: { ...values, [SAM_REST_API_ID_ENV]: '' } };
}
