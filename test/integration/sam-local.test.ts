import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { SAM_LOCAL, samEnvVars, samTableNames } from '../../infra/local-recipes.js';
import { localClient } from '../../local/dynamodb-local.js';
import { samLocal } from '../../scripts/sam-local.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { DynamoKeyRepository } from '../../shared/adapters/dynamodb/keys-repository.js';
import { parseApiKey } from '../../shared/domain/key-format.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs();

describe('scripts/sam-local.ts (the host side of the SAM recipe in docs/deploy.md)', () => {
  it('creates the tables, writes the --env-vars file and bootstraps an account in DynamoDB Local', async () => {
    // Arrange
    const endpoint = inject('dynamodbEndpoint');
    const out = join(tempDir('keygate-sam-'), SAM_LOCAL.envFile);
    const lines: string[] = [];

    // Act
    await samLocal(['--dynamodb', endpoint, '--out', out, '--account', 'sam-acme'], (line) =>
      lines.push(line),
    );

    // Assert: the file is exactly what the recipe and the template test rely on
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(samEnvVars());
    const client = localClient(endpoint);
    try {
      const { TableNames } = await client.send(new ListTablesCommand({}));
      expect(TableNames).toEqual(expect.arrayContaining(Object.values(samTableNames())));
    } finally {
      client.destroy();
    }
    const repo = new DynamoKeyRepository(
      createDocumentClient({ region: 'local', endpoint }),
      samTableNames(),
    );
    expect(await repo.findAccountIdByName('sam-acme')).toBeDefined();
    // The owner key is printed once, and it is a valid key of the deployment's prefix.
    const keys = lines.map((l) => l.trim()).filter((l) => parseApiKey(l, 'SG').ok);
    expect(keys).toHaveLength(1);
  });

  it('is idempotent for the tables (a second run keeps them and rewrites the file)', async () => {
    const endpoint = inject('dynamodbEndpoint');
    const out = join(tempDir('keygate-sam-'), SAM_LOCAL.envFile);

    await samLocal(['--dynamodb', endpoint, '--out', out], () => {});

    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(samEnvVars());
  });
});
