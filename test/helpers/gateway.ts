import { expect } from 'vitest';
import type * as z from 'zod';
import { ApiGatewayEmulator, type EmulatorOptions } from '../../local/emulator.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import { dynamoDocumentClient } from '../../shared/runtime/storage.js';
import { ErrorEnvelope } from '../../shared/schemas/api-keys.js';
import { expectContract, inContract } from './contract.js';
import { type Answered, bodyAs, checked } from './typed-body.js';

/**
 * Requests through the in-process API Gateway emulator: the real authorizer, the real handlers,
 * DynamoDB Local. Every response is checked for SendGrid's envelope on errors and, for the
 * routes SendGrid's contract covers, against the contract.
 */

export interface CallOptions {
  key?: string;
  /** Raw Authorization header (overrides `key`). */
  authorization?: string;
  body?: unknown;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** The client's address (default 127.0.0.1). */
  sourceIp?: string;
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
}

export interface Gateway {
  emulator: ApiGatewayEmulator;
  /** With `answer`, the zod schema of the answer expected, the body is checked and typed by it. */
  call<S extends z.ZodType = z.ZodUnknown>(
    method: string,
    path: string,
    options?: CallOptions,
    answer?: S,
  ): Promise<Answered<CallResult, S>>;
}

export function createGateway(options: EmulatorOptions = {}): Gateway {
  const emulator = new ApiGatewayEmulator(options);
  async function call<S extends z.ZodType = z.ZodUnknown>(
    method: string,
    path: string,
    callOptions: CallOptions = {},
    answer?: S,
  ): Promise<Answered<CallResult, S>> {
    const headers: Record<string, string> = { ...callOptions.headers };
    const authorization =
      callOptions.authorization ?? (callOptions.key ? `Bearer ${callOptions.key}` : undefined);
    if (authorization !== undefined) headers.Authorization = authorization;
    if (callOptions.body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await emulator.handle({
      method,
      path,
      headers,
      query: callOptions.query,
      ...(callOptions.sourceIp ? { sourceIp: callOptions.sourceIp } : {}),
      body: callOptions.body === undefined ? undefined : JSON.stringify(callOptions.body),
    });
    const body = response.body === '' ? undefined : (JSON.parse(response.body) as unknown);
    if (response.status >= 400) {
      expect(response.headers['content-type']).toBe('application/json');
      const { errors } = bodyAs(ErrorEnvelope, body, `${method} ${path} → ${response.status}`);
      expect(errors.length, `${method} ${path}: error envelope`).toBeGreaterThan(0);
      for (const e of errors) {
        expect(typeof e.message).toBe('string');
        expect(e.field === null || typeof e.field === 'string').toBe(true);
      }
    }
    const route = ROUTE_LIST.find((r) => r.id === response.routeId);
    if (route && inContract(route.method, route.path)) {
      expectContract(route.method, route.path, response.status, body);
    }
    return {
      status: response.status,
      headers: response.headers,
      body: checked(answer, body, `${method} ${path} → ${response.status}`),
      text: response.body,
    };
  }
  return { emulator, call };
}

/** Records DynamoDB commands sent by this process (the authorizer's and handlers' client). */
export function countDynamoCommands(): {
  readonly count: number;
  readonly inputs: readonly Record<string, unknown>[];
} {
  const inputs: Record<string, unknown>[] = [];
  dynamoDocumentClient().middlewareStack.add(
    (next) => async (args) => {
      inputs.push(args.input as Record<string, unknown>);
      return next(args);
    },
    { step: 'initialize', name: `count-${Math.random()}` },
  );
  return {
    get count() {
      return inputs.length;
    },
    inputs,
  };
}
