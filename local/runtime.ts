import { spawnSync } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { ConfigError, loadDeploymentSpec } from '../shared/deployment/load.js';
import { bootstrapAccount } from '../shared/domain/accounts.js';
import { ServiceUnavailableError } from '../shared/domain/errors.js';
import { scanKeyWarnings, warnsAtAll } from '../shared/domain/key-warnings.js';
import { nodeVersionProblem } from '../shared/node-version.js';
import { redact } from '../shared/observability/logger.js';
import { useDeployment } from '../shared/runtime/deployment.js';
import { defaultDeps } from '../shared/runtime/deps.js';
import { keyWarningDeps } from '../shared/runtime/key-warnings.js';
import { physicalTableName, tableNames, USAGE_TABLE } from '../shared/tables.js';
import { consoleFile } from './console-files.js';
import {
  type DynamoDbLocal,
  ensureTables,
  startDynamoDbLocal,
  stopStaleDynamoDbLocal,
} from './dynamodb-local.js';
import { ApiGatewayEmulator, type EmulatorResponse } from './emulator.js';
import {
  type DataDirLock,
  DataDirLockedError,
  FLUSH_CONTROL_PATH,
  LOCAL_TABLE_PREFIX,
  lockDataDir,
  removeRuntimeInfo,
  writeRuntimeInfo,
} from './runtime-file.js';

/** A start-up failure with one line that says what to do; `npm start` prints it and exits 1. */
export class StartupError extends Error {}

export interface RunningKeygate {
  url: string;
  port: number;
  /** The `local` account's owner key, only on the first start of a data directory. */
  newOwnerKey: string | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  dataDir: string;
  port: number;
  host?: string;
  /** One line per request and status messages (never key material). */
  log?: (line: string) => void;
  /** The authorizer cache TTL, as the stack's `authorizerCacheTtl`; 0 turns the cache off. */
  authorizerCacheTtlSeconds?: number;
  /**
   * How often the key-warnings scan runs (as the stack's hourly schedule does on AWS), in
   * milliseconds; 0 turns it off. Default {@link LOCAL_WARNING_SCAN_MS}.
   */
  warningScanIntervalMs?: number;
}

/**
 * Locally the key-warnings scan runs every minute, so its events show in `npx keygate events`
 * soon after they are due; a scan of a local instance's few keys costs nothing.
 */
export const LOCAL_WARNING_SCAN_MS = 60_000;

/**
 * The first path segments of the API (`v3`, `health`, `openapi.json`). As behind CloudFront,
 * which routes these prefixes to the API and everything else to the console's bucket, a request
 * under them never looks for a console file (nor costs a file-system check).
 */
function apiFirstSegments(routes: readonly { path: string }[]): ReadonlySet<string> {
  return new Set(routes.map((route) => firstSegment(route.path)));
}

function firstSegment(path: string): string {
  return path.split('/', 2)[1] ?? '';
}

/** Requests larger than API Gateway's 10 MB limit are not even read. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/**
 * Runs all of Keygate on this machine: DynamoDB Local persisting under `dataDir`, the tables from
 * the shared definitions, and the API Gateway emulator (the real authorizer and handlers) over
 * HTTP. The data directory's lock and the port are taken first, so a second server on the same
 * directory or a port in use fails in milliseconds, before Java starts.
 */
export async function startKeygate(options: StartOptions): Promise<RunningKeygate> {
  const log = options.log ?? (() => {});
  // The handlers run here as in Lambda, on its Node major: npm start's `node` is the project's
  // node devDependency, and start.ts started with an older node says so before anything starts.
  const nodeProblem = nodeVersionProblem('npm start', process.versions.node);
  if (nodeProblem) throw new StartupError(nodeProblem);
  const host = options.host ?? '127.0.0.1';
  // The team's config first: a mistake in it is one line, before anything starts.
  const deployment = await loadTeamDeployment(log);
  checkJava();
  const dynamoDir = join(options.dataDir, 'dynamodb');
  const outboxDir = join(options.dataDir, 'outbox');
  const pidFile = join(options.dataDir, 'dynamodb-local.pid');
  prepareDataDir(options.dataDir, [dynamoDir, outboxDir]);
  const lock = lockOrRefuse(options.dataDir);

  const http = createLocalServer(log);
  const server = http.server;
  let port: number;
  try {
    port = await listen(server, options.port, host);
  } catch (error) {
    lock.release();
    throw error;
  }
  const url = `http://${host}:${port}`;

  let dynamodb: DynamoDbLocal | undefined;
  try {
    dynamodb = await startStorage(options.dataDir, dynamoDir, pidFile, log);
    exposeToHandlers(dynamodb.endpoint, outboxDir);
    const newOwnerKey = await bootstrapLocalAccount();

    const emulator = new ApiGatewayEmulator(
      options.authorizerCacheTtlSeconds === undefined
        ? {}
        : { cacheTtlSeconds: options.authorizerCacheTtlSeconds },
    );
    const controlToken = randomBytes(24).toString('base64url');
    const apiSegments = apiFirstSegments(deployment.routes);
    http.handle((req, res) => {
      serve(req, res, emulator, apiSegments, controlToken, log).catch((error: unknown) => {
        log(`request failed: ${redact(firstLine(error))}`);
        if (!res.headersSent) {
          sendJson(res, 502, { errors: [{ field: null, message: 'internal server error' }] });
        }
      });
    });
    writeRuntimeInfo(options.dataDir, {
      pid: process.pid,
      url,
      dynamodbEndpoint: dynamodb.endpoint,
      tablePrefix: LOCAL_TABLE_PREFIX,
      outboxDir,
      controlToken,
      deployment: deployment.spec,
    });

    const stopScans = scheduleWarningScans(
      options.warningScanIntervalMs ?? LOCAL_WARNING_SCAN_MS,
      log,
    );
    const running = dynamodb;
    let stopped = false;
    return {
      url,
      port,
      newOwnerKey,
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopScans();
        emulator.close();
        removeRuntimeInfo(options.dataDir);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await running.stop();
        lock.release();
      },
    };
  } catch (error) {
    server.close();
    await dynamodb?.stop();
    lock.release();
    throw error;
  }
}

/**
 * Runs the key-warnings scan every `intervalMs` (one at a time: a scan still running when the next
 * is due is not doubled), with the deployment's settings, the local tables and the in-process
 * gateway's flush. A failed scan is logged; the next one catches up. Answers how to stop it
 * (waiting for a scan under way).
 */
function scheduleWarningScans(
  intervalMs: number,
  log: (line: string) => void,
): () => Promise<void> {
  const deps = keyWarningDeps();
  if (intervalMs <= 0 || !warnsAtAll(deps.settings)) return async () => {};
  let current: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (current) return;
    current = scanKeyWarnings(deps, deps.settings)
      .then((outcome) => {
        const recorded = outcome.expiryWarnings + outcome.unusedWarnings;
        if (recorded > 0) {
          log(
            `Key warnings: ${outcome.expiryWarnings} expiry, ${outcome.unusedWarnings} unused, ${outcome.disabled} key(s) disabled (npx keygate events)`,
          );
        }
      })
      .catch((error: unknown) => log(`key warnings scan failed: ${redact(firstLine(error))}`))
      .finally(() => {
        current = undefined;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await current;
  };
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The HTTP server: it answers 503 until {@link handle} gives it the emulator. */
function createLocalServer(log: (line: string) => void) {
  let handler: RequestHandler = (_req, res) =>
    sendJson(res, 503, { errors: [{ field: null, message: 'Keygate is starting' }] });
  // The response in flight on each connection: a client error must not corrupt one half sent.
  const inFlight = new WeakMap<Duplex, ServerResponse>();
  const server = createServer((req, res) => {
    inFlight.set(req.socket, res);
    res.once('close', () => {
      if (inFlight.get(req.socket) === res) inFlight.delete(req.socket);
    });
    handler(req, res);
  });
  // Node closes an idle keep-alive connection after 5 s, while a client may still take it from
  // its pool (one whose event loop was busy past its own idle limit, like a test between
  // synchronous CLI runs) and see "other side closed". A server that keeps idle connections
  // longer than its clients do (undici's pool lets them go after 4 s) never races them; shutdown
  // still closes every connection at once (`closeAllConnections`).
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    answerClientError(error, socket, inFlight.get(socket), log);
  });
  return {
    server,
    handle(next: RequestHandler) {
      handler = next;
    },
  };
}

/** DynamoDB Local on the data directory (an earlier start's leftover stopped), with its tables. */
async function startStorage(
  dataDir: string,
  dynamoDir: string,
  pidFile: string,
  log: (line: string) => void,
): Promise<DynamoDbLocal> {
  try {
    const stale = await stopStaleDynamoDbLocal(pidFile, dynamoDir);
    if (stale !== undefined) log(`Stopped DynamoDB Local (pid ${stale}) left by an earlier start.`);
  } catch (error) {
    throw new StartupError(`${firstLine(error)}: stop it, then run npm start again.`);
  }
  let dynamodb: DynamoDbLocal | undefined;
  try {
    dynamodb = await startDynamoDbLocal({ dataDir: dynamoDir, pidFile });
    await ensureTables(dynamodb.endpoint, LOCAL_TABLE_PREFIX);
    return dynamodb;
  } catch (error) {
    await dynamodb?.stop();
    if (/jdk\.compiler/.test(String(error))) {
      throw new StartupError(
        'The Java found lacks the jdk.compiler module, which Keygate needs to run DynamoDB Local on the loopback interface only: install a full Java 17 or newer (e.g. `apt-get install openjdk-17-jdk-headless`) and run npm start again.',
      );
    }
    throw new StartupError(
      `DynamoDB Local could not open the data directory ${dataDir} (${firstLine(error)}); it may be corrupt: move it aside or delete it to start fresh.`,
    );
  }
}

/** Handlers read their wiring from the environment, exactly as they do in Lambda. */
function exposeToHandlers(dynamodbEndpoint: string, outboxDir: string): void {
  const tables = tableNames(LOCAL_TABLE_PREFIX);
  Object.assign(process.env, {
    KEYGATE_DYNAMODB_ENDPOINT: dynamodbEndpoint,
    KEYGATE_KEYS_TABLE: tables.keys,
    KEYGATE_ACCOUNTS_TABLE: tables.accounts,
    KEYGATE_AUDIT_TABLE: tables.audit,
    KEYGATE_USAGE_TABLE: physicalTableName(LOCAL_TABLE_PREFIX, USAGE_TABLE),
    KEYGATE_OUTBOX_DIR: outboxDir,
    AWS_REGION: process.env.AWS_REGION || 'local',
  });
}

function lockOrRefuse(dataDir: string): DataDirLock {
  try {
    return lockDataDir(dataDir);
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      throw new StartupError(
        `Keygate is already running on ${dataDir} (pid ${error.pid}): stop it first or set KEYGATE_DATA_DIR to another directory.`,
      );
    }
    throw new StartupError(
      `The data directory ${dataDir} cannot be locked (${firstLine(error)}): fix it, or set KEYGATE_DATA_DIR to another directory.`,
    );
  }
}

/**
 * Serves the team's config (`KEYGATE_CONFIG`, or `keygate.config.ts` here), or SendGrid's
 * service without one; its warnings are printed, its errors stop the start in one line.
 */
async function loadTeamDeployment(log: (line: string) => void) {
  let loaded: Awaited<ReturnType<typeof loadDeploymentSpec>>;
  try {
    loaded = await loadDeploymentSpec();
  } catch (error) {
    if (error instanceof ConfigError) throw new StartupError(error.message);
    throw error;
  }
  for (const warning of loaded.warnings) log(`warning: ${warning}`);
  if (loaded.configFile) {
    log(
      `Serving ${loaded.spec.routes.length} route(s) and ${loaded.spec.areas.length} area(s) of ${loaded.configFile}${loaded.lockWritten ? ' (keygate.lock.json updated: commit it)' : ''}`,
    );
  }
  return useDeployment(loaded.spec, loaded.configDir);
}

function checkJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new StartupError(
      'Java 17 or newer is required for DynamoDB Local but `java` was not found: install it (e.g. `apt-get install openjdk-17-jre-headless`) and run npm start again.',
    );
  }
  const major = Number(/version "(\d+)/.exec(`${probe.stderr}${probe.stdout}`)?.[1] ?? 0);
  if (major > 0 && major < 17) {
    throw new StartupError(
      `Java ${major} was found but DynamoDB Local needs Java 17 or newer: install it and run npm start again.`,
    );
  }
}

/**
 * Creates the data directory, or makes an existing one private again: it holds every key's
 * record (whoever can write the database can plant a key) and runtime.json's control token.
 * Directories 0700, files 0600 (earlier versions left them 0755 and 0644); only what Keygate puts
 * there is touched: never a symbolic link, nor anything else in a directory KEYGATE_DATA_DIR
 * names.
 */
function prepareDataDir(dataDir: string, subdirs: string[]): void {
  try {
    for (const dir of [dataDir, ...subdirs]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const dir of subdirs) {
      if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
    }
    chmodSync(dataDir, 0o700);
    for (const name of readdirSync(dataDir)) {
      if (OWN_FILES.test(name)) restrict(join(dataDir, name), 0o600);
    }
    for (const dir of subdirs) {
      chmodSync(dir, 0o700);
      for (const name of readdirSync(dir)) restrict(join(dir, name), 0o600);
    }
  } catch (error) {
    throw new StartupError(
      `The data directory ${dataDir} cannot be used (${firstLine(error)}): fix it, or set KEYGATE_DATA_DIR to another directory.`,
    );
  }
}

/** Keygate's own files at the top of the data directory. */
const OWN_FILES = /^(runtime\.json|dynamodb-local\.pid|keygate\.\d+\.lock|\.keygate-lock-.*)$/;

function restrict(path: string, mode: number): void {
  if (lstatSync(path).isFile()) chmodSync(path, mode);
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  server.listen(port, host);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([e]) => Promise.reject(e)),
    ]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new StartupError(
        `Port ${port} is already in use: stop what is using it or choose another with PORT=<port> npm start.`,
      );
    }
    throw new StartupError(`Cannot listen on ${host}:${port}: ${firstLine(error)}`);
  }
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/**
 * On the first start of a data directory: the `local` account and its owner key. DynamoDB Local
 * can be slow to answer just after it started and made its tables (seconds on a loaded machine,
 * past the clients' 2 s request timeout), so a storage error is retried a few times
 * (0.5 + 1 + 2 + 4 s) before the start gives up. An attempt whose write landed but whose answer
 * was lost leaves the account without its owner key shown; the start then says nothing new, and
 * `npx keygate keys create --account local` makes a key.
 */
async function bootstrapLocalAccount(): Promise<string | undefined> {
  const deps = defaultDeps();
  for (let attempt = 0; ; attempt += 1) {
    try {
      if (await deps.repo.findAccountIdByName('local')) return undefined;
      const created = await bootstrapAccount(deps, { name: 'local' });
      if (!created.ok) throw created.error;
      return created.value.apiKey;
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError) || attempt >= 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
    }
  }
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  emulator: ApiGatewayEmulator,
  /** First path segments of the API's routes: never looked up as console files. */
  apiSegments: ReadonlySet<string>,
  controlToken: string,
  log: (line: string) => void,
): Promise<void> {
  const started = performance.now();
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  let response: EmulatorResponse;
  const page =
    (method === 'GET' || method === 'HEAD') && !apiSegments.has(firstSegment(url.pathname))
      ? consoleFile(url.pathname)
      : undefined;
  if (url.pathname === FLUSH_CONTROL_PATH) {
    response = control(req, controlToken, emulator);
  } else if (page) {
    response = page;
  } else {
    const body = await readBody(req);
    response =
      body === undefined
        ? {
            status: 413,
            headers: { 'content-type': 'application/json' },
            body: '{"errors":[{"field":null,"message":"content too large"}]}',
          }
        : await emulator.handle({
            method,
            path: url.pathname,
            query: queryOf(url),
            headers: req.headers as Record<string, string | string[]>,
            body,
            sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          });
  }
  res.writeHead(response.status, response.headers);
  res.end(response.body);
  const ms = (performance.now() - started).toFixed(1);
  log(
    redact(
      `${method} ${loggablePath(url.pathname)} ${response.status} ${ms}ms key=${response.keyId ?? '-'}`,
    ),
  );
}

/**
 * The path as received, except that a segment hiding key material behind percent-encoding
 * (`SG%2E…`, `SG%252E…` from a client that encodes twice) is logged decoded with the key masked:
 * the redactor only recognises a key in plain text, and a key must never reach a log in any form.
 */
export function loggablePath(pathname: string): string {
  return pathname
    .split('/')
    .map((segment) => {
      // Re-encoded where needed, so a decoded newline or space cannot forge or split a log line
      // (a key has none of these characters, so masking still finds it).
      const decoded = percentDecodeFully(segment).replace(
        /[^\x21-\x7e]|%/g,
        (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
      );
      const masked = redact(decoded);
      return masked === decoded ? segment : masked;
    })
    .join('/');
}

/**
 * Decodes `%XX` escapes until none is left, including those decoding reveals (`%2541` → `%41` →
 * `A`), in one pass (a path cannot make it loop); never throws, unlike decodeURIComponent.
 */
function percentDecodeFully(text: string): string {
  const out: string[] = [];
  for (const char of text) {
    out.push(char);
    for (;;) {
      const n = out.length;
      const hex = `${out[n - 2] ?? ''}${out[n - 1] ?? ''}`;
      if (n < 3 || out[n - 3] !== '%' || !/^[0-9A-Fa-f]{2}$/.test(hex)) break;
      out.length = n - 3;
      out.push(String.fromCharCode(Number.parseInt(hex, 16)));
    }
  }
  return out.join('');
}

/** Node's own answers to requests it cannot parse, as it would choose them (`socketOnError`). */
const CLIENT_ERRORS: Readonly<Record<string, { status: number; message: string }>> = {
  HPE_HEADER_OVERFLOW: { status: 431, message: 'request header fields too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, message: 'content too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'request timeout' },
};
const BAD_REQUEST = { status: 400, message: 'bad request' };

/**
 * A request Node's parser refused (a lowercase method, headers over its limit, …): Node would
 * answer a bare 400 or 431 without a body; this answers with the same status in SendGrid's
 * envelope, as every other error, then closes the connection (its framing is lost).
 */
function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Duplex,
  inFlight: ServerResponse | undefined,
  log: (line: string) => void,
): void {
  // As Node: nothing to answer on a connection that is gone, and nothing may be written into a
  // response already under way.
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, message } = CLIENT_ERRORS[error.code ?? ''] ?? BAD_REQUEST;
  const body = JSON.stringify({ errors: [{ field: null, message }] });
  socket.end(
    [
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
      'content-type: application/json',
      `content-length: ${Buffer.byteLength(body)}`,
      'connection: close',
      '',
      body,
    ].join('\r\n'),
    () => socket.destroy(),
  );
  log(`- - ${status} unparsable request (${error.code ?? 'unknown'})`);
}

function control(
  req: IncomingMessage,
  token: string,
  emulator: ApiGatewayEmulator,
): EmulatorResponse {
  const given = Buffer.from(String(req.headers['x-keygate-control'] ?? ''));
  const expected = Buffer.from(token);
  const loopback = ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(
    req.socket.remoteAddress ?? '',
  );
  if (
    req.method !== 'POST' ||
    !loopback ||
    given.length !== expected.length ||
    !timingSafeEqual(given, expected)
  ) {
    return {
      status: 404,
      headers: { 'content-type': 'application/json' },
      body: '{"errors":[{"field":null,"message":"not found"}]}',
    };
  }
  emulator.flushAuthorizerCache();
  return { status: 204, headers: {}, body: '' };
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? (values[0] ?? '') : values;
  }
  return query;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
