import type { TestProject } from 'vitest/node';
import { ensureTables, startDynamoDbLocal } from '../../local/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    tablePrefix: string;
  }
}

/** One DynamoDB Local for the whole integration run; tables from the shared definitions. */
export default async function setup(project: TestProject) {
  const dynamodb = await startDynamoDbLocal();
  const tablePrefix = 'keygate-test';
  await ensureTables(dynamodb.endpoint, tablePrefix);
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  project.provide('tablePrefix', tablePrefix);
  return () => dynamodb.stop();
}
