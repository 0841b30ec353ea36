import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** How long one DynamoDB call may take, SDK retries included (see {@link DYNAMODB_TIMEOUTS}). */
export interface DynamoDbTimeouts {
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  maxAttempts: number;
}

/**
 * Without these the SDK waits for ever: its defaults disable every timeout. A DynamoDB that
 * accepts connections and never answers (the kernel completes the handshake into the listen
 * backlog; a keep-alive socket is already connected) then holds each request until the Lambda
 * dies at its timeout (10 s; API Gateway's integration timeout is 29 s), and the client gets a
 * 500 or a 504 instead of a retryable 503. With them, the call fails with a `TimeoutError`, which
 * the repository turns into a 503 with `Retry-After`.
 *
 * What each option of `@smithy/node-http-handler` (4.x, read in node_modules) measures:
 * - `connectionTimeout`: from the start of the attempt to the socket's TCP `connect` (not TLS,
 *   not the answer; a reused keep-alive socket is already connected). It fires when SYNs go
 *   unanswered (DynamoDB unreachable, a full listen backlog), never for a server that accepted
 *   the connection and stalls. In-region TCP set-up takes milliseconds: 1 s.
 * - `requestTimeout`: from the start of the attempt to the response headers: the timeout that
 *   catches a server that took the request and stalls. It only logs a warning unless
 *   `throwOnRequestTimeout` is set. DynamoDB answers Keygate's calls (a `GetItem`, a query of at
 *   most one 1 MB page, a transaction of at most three items) in tens of milliseconds; 2 s
 *   leaves room for a cold start's TLS handshake and for DynamoDB Local on a loaded machine.
 * - `socketTimeout`: idle time on the connected socket, the response body included (after the
 *   headers `requestTimeout` no longer applies): the same 2 s.
 * - `maxAttempts` 2 (this SDK's DynamoDB default is 4): one retry hides a single lost or slow
 *   request, and a timed-out transaction is retried with the same idempotency token
 *   (`ClientRequestToken`), so a commit whose answer was lost is not applied twice.
 *
 * Worst case of one call: 2 attempts × 2 s + the SDK's backoff between them (tens of ms after a
 * timeout, at most 1 s after throttling): about 4-5 s, well under the 10 s function timeout. A
 * DynamoDB that stops answering fails the first call that meets it, so an operation ends within
 * one such call after its last good one (the repository also bounds its conflict retries:
 * `TRANSACTION_RETRY_BUDGET_MS`, `keys-repository.ts`).
 *
 * The first two timers start before the attempt has a socket: time spent waiting for one of the
 * pool's 50 counts. A Lambda container serves one request at a time, so its pool never queues;
 * one process that serves many concurrent requests against DynamoDB Local (`npm start`, tests
 * that play many Lambdas at once) does, which is what {@link createDocumentClient}'s `timeouts`
 * is for.
 *
 * AWS SDK for JavaScript v3: `requestHandler` takes the `NodeHttpHandler` options
 * (https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html,
 * its "shorthand syntax"; the options, `NodeHttpHandlerOptions`:
 * https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-smithy-node-http-handler);
 * `maxAttempts`: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html.
 */
export const DYNAMODB_TIMEOUTS: Readonly<DynamoDbTimeouts> = {
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 2_000,
  maxAttempts: 2,
};

/**
 * One document client per process. With an endpoint (DynamoDB Local) it uses fixed dummy
 * credentials, since DynamoDB Local accepts any and a developer machine may have none.
 * `timeouts` replaces some of {@link DYNAMODB_TIMEOUTS}.
 */
export function createDocumentClient(options: {
  region: string;
  endpoint?: string | undefined;
  timeouts?: Partial<DynamoDbTimeouts> | undefined;
}): DynamoDBDocumentClient {
  const timeouts = { ...DYNAMODB_TIMEOUTS, ...options.timeouts };
  const client = new DynamoDBClient({
    region: options.region,
    maxAttempts: timeouts.maxAttempts,
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: timeouts.requestTimeoutMs,
    },
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
