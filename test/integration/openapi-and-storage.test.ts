import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { localClient } from '../../local/dynamodb-local.js';
import { hashApiKey } from '../../shared/domain/key-format.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { tableNames } from '../../shared/tables.js';
import { invoke, newAccount } from '../helpers/harness.js';

describe('GET /openapi.json', () => {
  it('serves an OpenAPI 3.1 document covering every route of the route table, without auth', async () => {
    // Act
    const res = await invoke('getOpenApi');

    // Assert
    expect(res.status).toBe(200);
    const doc = res.body as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const route of ROUTE_LIST) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      if (route.access.kind === 'public') expect(op?.security).toEqual([]);
    }
    // Every $ref resolves inside the document.
    for (const [, name] of JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      expect(doc.components.schemas, name).toHaveProperty(name ?? '');
    }
  });

  it("describes SendGrid's request fields with the schemas that validate them", async () => {
    const res = await invoke('getOpenApi');

    const schemas = (
      res.body as {
        components: {
          schemas: Record<string, { required?: string[]; properties: Record<string, unknown> }>;
        };
      }
    ).components.schemas;
    expect(schemas.CreateApiKeyRequest?.required).toEqual(['name']);
    expect(Object.keys(schemas.CreateApiKeyRequest?.properties ?? {})).toEqual([
      'name',
      'scopes',
      'expires_at',
      'allowed_ips',
      'limits',
    ]);
    expect(schemas.ReplaceApiKeyRequest?.required).toEqual(['name', 'scopes']);
  });
});

describe('storage', () => {
  it('holds no key material: every item of every table is free of issued keys and secrets', async () => {
    // Arrange
    const account = await newAccount();
    const issued = [account.ownerKey];
    for (let i = 0; i < 3; i++) {
      const res = await invoke(
        'createApiKey',
        { caller: account.owner, body: { name: `k${i}` } },
        CreatedApiKey,
      );
      issued.push(res.body.api_key);
    }

    // Act: a test-only scan to read everything; the application never scans.
    const client = localClient(inject('dynamodbEndpoint'));
    const names = tableNames(inject('tablePrefix'));
    const dump: string[] = [];
    for (const table of [names.keys, names.accounts]) {
      let start: Record<string, never> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({ TableName: table, ExclusiveStartKey: start }),
        );
        dump.push(...(page.Items ?? []).map((item) => JSON.stringify(unmarshall(item))));
        start = page.LastEvaluatedKey as typeof start;
      } while (start);
    }
    client.destroy();

    // Assert
    const text = dump.join('\n');
    for (const key of issued) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(key.split('.')[2]);
      expect(text).toContain(hashApiKey(key));
    }
  });

  it('finds a key from its value through the hash index', async () => {
    const { owner } = await newAccount();
    const res = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'leaked' } },
      CreatedApiKey,
    );
    const { api_key, api_key_id } = res.body;

    const found = await defaultDeps().repo.findKeyIdByHash(hashApiKey(api_key));

    expect(found).toBe(api_key_id);
  });

  it('never scans on a request: the Scans are the operator listing (the CLI) and the key-warnings scan (its function, the CLI, npm start)', () => {
    const files = ['shared', 'functions', 'local', 'infra'].flatMap((dir) =>
      readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(dir, f)),
    );
    expect(files.length).toBeGreaterThan(10);
    const repository = join('shared', 'adapters', 'dynamodb', 'keys-repository.ts');
    const warningStore = join('shared', 'adapters', 'dynamodb', 'key-warnings.ts');
    const warningRuntime = join('shared', 'runtime', 'key-warnings.ts');
    // The key-warnings scan's own files: its store, its domain, its permission and the stack's.
    const scanFiles = [
      warningStore,
      join('shared', 'domain', 'key-warnings.ts'),
      join('shared', 'permissions.ts'),
      join('infra', 'constructs', 'keygate.ts'),
    ];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      // The scan's store is built for its function and npm start, and by the CLI; nothing else.
      if (/\bDynamoKeyWarningStore\b/.test(text)) {
        expect([warningStore, warningRuntime, join('local', 'cli.ts')]).toContain(file);
      }
      if (/\bkeyWarningDeps\b/.test(text)) {
        expect([
          warningRuntime,
          join('functions', 'key-warnings', 'handler.ts'),
          join('local', 'runtime.ts'),
        ]).toContain(file);
      }
      if (file === warningStore) {
        const scans = [...text.matchAll(/new ScanCommand\(/g)].map((m) => m.index ?? -1);
        expect(scans).toHaveLength(1);
        expect(scans[0]).toBeGreaterThan(text.indexOf('async scanKeys('));
      }
      if (scanFiles.includes(file)) continue;
      if (file === repository) {
        // Only `listAccounts` (`keygate accounts list`) builds a ScanCommand.
        const scans = [...text.matchAll(/new ScanCommand\(/g)].map((m) => m.index ?? -1);
        const method = text.indexOf('async listAccounts(');
        const next = text.indexOf('\n  async ', method + 1);
        expect(scans).toHaveLength(1);
        expect(scans[0]).toBeGreaterThan(method);
        expect(scans[0]).toBeLessThan(next);
        continue;
      }
      expect(text, file).not.toMatch(/\bScan(Command|Input)?\b/);
      // No handler, domain function or gateway reaches the operator listing.
      if (!file.startsWith('local') && !file.endsWith('ports.ts') && !file.includes('memory')) {
        expect(text, file).not.toMatch(/\blistAccounts\b/);
      }
    }
  });
});
