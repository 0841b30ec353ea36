import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';

/**
 * Checks responses against SendGrid's own contracts (`test/contract/…openapi.json`, copied from
 * the shared contracts: API keys, Subusers). Where the contract's `x-contract-notes` say the spec disagrees with the
 * real API, the observed shape wins (GET one and PUT answer a single key object).
 *
 * Stricter than the spec on success bodies: every property the contract names must be present,
 * since SendGrid clients read them. Keygate's additive fields are allowed.
 */
type Json = Record<string, unknown>;

/** SendGrid's API-keys contract and its Subusers contract: each path is in one of them. */
const CONTRACTS = ['sendgrid-api-keys.openapi.json', 'sendgrid-subusers.openapi.json'].map(
  (file) =>
    JSON.parse(readFileSync(new URL(`../contract/${file}`, import.meta.url), 'utf8')) as Json,
);

/** The contract that describes `path` (the API-keys one for shared components). */
function contractOf(path: string): Json {
  return CONTRACTS.find((c) => (c.paths as Json)[path] !== undefined) ?? (CONTRACTS[0] as Json);
}

/**
 * Properties a contract names but documents as present only on request: the Subusers contract's
 * `region` ("returned only if the `include_region` parameter was included and set to `true`").
 */
const CONDITIONAL_PROPERTIES: ReadonlySet<string> = new Set(['region']);

const OVERRIDES: Record<string, string> = {
  'GET /v3/api_keys/{api_key_id} 200': '#/components/schemas/ApiKeyScopesResponse',
  'PUT /v3/api_keys/{api_key_id} 200': '#/components/schemas/ApiKeyScopesResponse',
};

/**
 * Successes without a body that SendGrid documents outside its spec: sandbox mode answers 200
 * with an empty body (https://docs.sendgrid.com/for-developers/sending-email/sandbox-mode).
 */
const EMPTY_SUCCESSES: ReadonlySet<string> = new Set(['POST /v3/mail/send 200']);

function pointer(ref: string, contract: Json): unknown {
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, part) => (node as Json)[part.replaceAll('~1', '/')], contract);
}

function resolve(node: unknown, contract: Json): unknown {
  if (Array.isArray(node)) return node.map((n) => resolve(n, contract));
  if (node === null || typeof node !== 'object') return node;
  const ref = (node as Json).$ref;
  if (typeof ref === 'string') return resolve(pointer(ref, contract), contract);
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v, contract)]));
}

// No format is checked (ajv knows none without ajv-formats, and ignored each with a warning per
// schema): shapes and types are the contract here; addresses are checked by the domain's tests.
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });

function schemaFor(method: string, path: string, status: number): Json | undefined {
  const contract = contractOf(path);
  const override = OVERRIDES[`${method} ${path} ${status}`];
  if (override) return resolve(pointer(override, contract), contract) as Json;
  const operation = (contract.paths as Json)[path] as Json | undefined;
  const response = (operation?.[method.toLowerCase()] as Json | undefined)?.responses as
    | Json
    | undefined;
  const declared = response?.[String(status)];
  if (declared === undefined) {
    // Statuses SendGrid does not list for this operation (409, 413, 415, 503) still use its
    // error envelope.
    return status >= 400
      ? (resolve(pointer('#/components/schemas/ErrorResponse', contract), contract) as Json)
      : undefined;
  }
  const content = (resolve(declared, contract) as Json).content as Json | undefined;
  return (content?.['application/json'] as Json | undefined)?.schema as Json | undefined;
}

/** Whether SendGrid's contract describes this route (Keygate-only routes are not checked). */
export function inContract(method: string, path: string): boolean {
  const contract = contractOf(path);
  const operation = (contract.paths as Json)[path] as Json | undefined;
  return operation?.[method.toLowerCase()] !== undefined;
}

/** Whether the contract answers this status with no body (204; a response without content). */
function declaresNoBody(method: string, path: string, status: number): boolean {
  if (status === 204 || EMPTY_SUCCESSES.has(`${method} ${path} ${status}`)) return true;
  const contract = contractOf(path);
  const operation = (contract.paths as Json)[path] as Json | undefined;
  const responses = (operation?.[method.toLowerCase()] as Json | undefined)?.responses as
    | Json
    | undefined;
  const declared = responses?.[String(status)];
  return declared !== undefined && (resolve(declared, contract) as Json).content === undefined;
}

/** Asserts one observed response conforms to SendGrid's contract. */
export function expectContract(method: string, path: string, status: number, body: unknown): void {
  const where = `${method} ${path} ${status}`;
  if (declaresNoBody(method, path, status)) {
    expect(body, `${where}: the contract defines no body`).toBeUndefined();
    return;
  }
  const schema = schemaFor(method, path, status);
  expect(schema, `${where}: the contract defines no body for this status`).toBeDefined();
  const validate = ajv.compile(schema as Json);
  expect(validate(body) ? [] : validate.errors, `${where}: body violates the contract`).toEqual([]);
  if (status < 400) expectDeclaredPropertiesPresent(schema as Json, body, where);
  if (status >= 400) {
    const errors = (body as { errors: { field: unknown; message: unknown }[] }).errors;
    expect(errors.length, `${where}: at least one error`).toBeGreaterThan(0);
    for (const e of errors) {
      expect(typeof e.message, `${where}: message is a string`).toBe('string');
      expect(e.field === null || typeof e.field === 'string', `${where}: field`).toBe(true);
    }
  }
}

function expectDeclaredPropertiesPresent(schema: Json, body: unknown, where: string): void {
  if (schema.type === 'object' && schema.properties && body && typeof body === 'object') {
    for (const [name, sub] of Object.entries(schema.properties as Json)) {
      if (CONDITIONAL_PROPERTIES.has(name)) continue;
      expect(body, `${where}: property ${name} missing`).toHaveProperty(name);
      expectDeclaredPropertiesPresent(sub as Json, (body as Json)[name], where);
    }
  }
  if (schema.type === 'array' && Array.isArray(body) && schema.items) {
    for (const item of body) expectDeclaredPropertiesPresent(schema.items as Json, item, where);
  }
}
