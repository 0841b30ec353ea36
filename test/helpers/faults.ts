import {
  InternalServerError,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { dynamoDocumentClient } from '../../shared/runtime/storage.js';

/**
 * Storage faults for integration tests: an SDK middleware on the process's DynamoDB client (the
 * one the authorizer and every handler use), so the real repository, domain and HTTP layers meet
 * the error exactly as they would meet it from DynamoDB.
 */

/** Commands that change data (everything else Keygate sends is a read). */
export const WRITE_COMMANDS: readonly string[] = [
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
];

export interface FaultSpec {
  /** Command names that fail (`GetItemCommand`, `TransactWriteItemsCommand`, …); default: all. */
  commands?: readonly string[];
  /** Narrows the fault to attempts whose (serialised) input contains this text. */
  inputContaining?: string;
  /** The error one failing attempt throws. */
  error: (input: Record<string, unknown>) => Error;
  /**
   * Where the fault sits in the SDK's middleware stack:
   * - `above-retries` (default): before the SDK's retry layer, so the error is what the SDK
   *   surfaces once its own retries are spent, deterministically and without a request;
   * - `below-retries`: every attempt fails, so the SDK retries (with its backoff) as it would
   *   against DynamoDB.
   */
  layer?: 'above-retries' | 'below-retries';
  /** Fails only the first `times` matching attempts; the later ones go through. */
  times?: number;
  /**
   * Sends the attempt first and then loses the response (`below-retries` only): the write is
   * applied and the caller sees an error, as when a connection drops after DynamoDB answered.
   */
  afterSend?: boolean;
}

export interface Fault {
  /** Command names of the attempts that failed, in order. */
  readonly failed: readonly string[];
  /** Command names of the attempts that went through while the fault was in place. */
  readonly passed: readonly string[];
  remove(): void;
}

/** A middleware of the document client's stack (the type of its `deserialize` step). */
type Middleware = Parameters<ReturnType<typeof dynamoDocumentClient>['middlewareStack']['add']>[0];

const installed = new Set<string>();
let sequence = 0;

export function injectFault(spec: FaultSpec): Fault {
  const client = dynamoDocumentClient();
  const name = `test-fault-${++sequence}`;
  const failed: string[] = [];
  const passed: string[] = [];
  const layer = spec.layer ?? 'above-retries';
  const middleware: Middleware = (next, context) => async (args) => {
    const command = String(context.commandName);
    const input = args.input as Record<string, unknown>;
    const matches =
      (spec.commands === undefined || spec.commands.includes(command)) &&
      (spec.inputContaining === undefined ||
        JSON.stringify(input).includes(spec.inputContaining)) &&
      (spec.times === undefined || failed.length < spec.times);
    if (!matches) {
      passed.push(command);
      return next(args);
    }
    failed.push(command);
    if (spec.afterSend) await next(args);
    throw spec.error(input);
  };
  // `initialize` runs once per command, above the retry middleware (`finalizeRequest`);
  // `deserialize` runs once per attempt, below it.
  if (layer === 'above-retries') {
    // The same function serves both steps: it only reads `input` and calls `next`.
    client.middlewareStack.add(middleware as never, { step: 'initialize', name });
  } else client.middlewareStack.add(middleware, { step: 'deserialize', name });
  installed.add(name);
  return {
    failed,
    passed,
    remove() {
      client.middlewareStack.remove(name);
      installed.delete(name);
    },
  };
}

/** Removes every fault still in place (call it in `afterEach`). */
export function removeAllFaults(): void {
  for (const name of installed) dynamoDocumentClient().middlewareStack.remove(name);
  installed.clear();
}

/**
 * Rewrites every request to a port nobody listens on: DynamoDB is really unreachable (the
 * connection is refused), through the SDK's HTTP handler and retries.
 */
export function redirectDynamoDb(port: number): Fault {
  const client = dynamoDocumentClient();
  const name = `test-unreachable-${++sequence}`;
  const failed: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      failed.push(String(context.commandName));
      const request = args.request as { port?: number };
      request.port = port;
      return next(args);
    },
    // `build` runs once per command, before the retry layer, so every attempt goes to `port`.
    { step: 'build', name },
  );
  installed.add(name);
  return {
    failed,
    passed: [],
    remove() {
      client.middlewareStack.remove(name);
      installed.delete(name);
    },
  };
}

/**
 * What Node's HTTP stack throws when DynamoDB cannot be reached: the connection refused
 * (`ECONNREFUSED`, the default) or dropped (`ECONNRESET`).
 */
export function networkError(code: 'ECONNREFUSED' | 'ECONNRESET' = 'ECONNREFUSED'): Error {
  const message =
    code === 'ECONNREFUSED' ? 'connect ECONNREFUSED 127.0.0.1:8000' : 'socket hang up';
  return Object.assign(new Error(message), { code, $metadata: {} });
}

/** Provisioned throughput exceeded, as DynamoDB answers it (the SDK classes it as throttling). */
export function throughputExceeded(attempts?: number): Error {
  return Object.assign(
    new ProvisionedThroughputExceededException({
      message:
        'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
      $metadata: { httpStatusCode: 400, ...(attempts ? { attempts } : {}) },
    }),
    { $retryable: { throttling: true } },
  );
}

/** On-demand throttling (`ThrottlingException`). */
export function throttled(attempts?: number): Error {
  return Object.assign(
    new ThrottlingException({
      message: 'Throughput exceeds the current capacity of your table or index.',
      $metadata: { httpStatusCode: 400, ...(attempts ? { attempts } : {}) },
    }),
    { $retryable: { throttling: true } },
  );
}

/** DynamoDB's 500. */
export function internalServerError(): Error {
  return new InternalServerError({
    message: 'Internal server error',
    $metadata: { httpStatusCode: 500 },
  });
}

/**
 * A transaction cancelled for a reason other than a condition: the first item passed, the last
 * one failed with `code` (`ValidationError`, `ThrottlingError`, `TransactionConflict`, …).
 */
export function transactionCancelled(code: string) {
  return (input: Record<string, unknown>): Error => {
    const items = Array.isArray(input.TransactItems) ? input.TransactItems : [];
    const reasons = items.map((_, i) =>
      i === items.length - 1 ? { Code: code, Message: `${code} on item ${i}` } : { Code: 'None' },
    );
    return new TransactionCanceledException({
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      $metadata: { httpStatusCode: 400 },
      CancellationReasons: reasons,
    });
  };
}
