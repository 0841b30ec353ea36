import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, inject } from 'vitest';
import { physicalTableName, tableNames, USAGE_TABLE } from '../../shared/tables.js';

// Handlers read their wiring from the environment exactly as they do in Lambda.
const tables = tableNames(inject('tablePrefix'));
process.env.KEYGATE_DYNAMODB_ENDPOINT = inject('dynamodbEndpoint');
process.env.KEYGATE_KEYS_TABLE = tables.keys;
process.env.KEYGATE_ACCOUNTS_TABLE = tables.accounts;
process.env.KEYGATE_AUDIT_TABLE = tables.audit;
process.env.KEYGATE_USAGE_TABLE = physicalTableName(inject('tablePrefix'), USAGE_TABLE);
process.env.KEYGATE_KEY_PREFIX = 'SG';
process.env.AWS_REGION = 'local';
const outbox = mkdtempSync(join(tmpdir(), 'keygate-outbox-'));
process.env.KEYGATE_OUTBOX_DIR = outbox;
// Each test file gets its own outbox; it leaves nothing behind.
afterAll(() => rmSync(outbox, { recursive: true, force: true }));
