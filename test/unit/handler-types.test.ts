import { describe, expect, expectTypeOf, it } from 'vitest';
import type * as z from 'zod';
import { ok } from '../../shared/domain/errors.js';
import type {
  MailAddress,
  MailPayload,
  MailPersonalization,
} from '../../shared/domain/mail-model.js';
import {
  type ApiRequest,
  keyRouteHandler,
  type PathParameterNames,
  type PathParameters,
  pathParametersOf,
} from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';
import { MAILER } from '../../shared/runtime/mailer.js';
import type { CreateApiKeyBody, ListApiKeysQuery } from '../../shared/schemas/api-keys.js';
import type { MailTo, Personalization, SendMailBody } from '../../shared/schemas/mail.js';

describe('the handler seam, typed from the route', () => {
  it('names path parameters from the path', () => {
    expectTypeOf<PathParameterNames<'/v3/api_keys/{api_key_id}'>>().toEqualTypeOf<'api_key_id'>();
    expectTypeOf<PathParameterNames<'/v1/{a}/items/{b}'>>().toEqualTypeOf<'a' | 'b'>();
    expectTypeOf<PathParameterNames<'/v3/api_keys'>>().toEqualTypeOf<never>();
    expectTypeOf<PathParameters<typeof ROUTES.deleteSubuser.path>>().toEqualTypeOf<
      Readonly<{ subuser_name: string }>
    >();
  });

  it("gives an operation its route's parameters, and only those", () => {
    keyRouteHandler(ROUTES.getApiKey, (request) => {
      expectTypeOf(request.pathParameters.api_key_id).toEqualTypeOf<string>();
      // @ts-expect-error: getApiKey has no subuser_name
      void request.pathParameters.subuser_name;
      return ok(request.pathParameters.api_key_id);
    });
    expectTypeOf<
      ApiRequest<undefined, undefined, '/v3/api_keys'>['pathParameters']
    >().toEqualTypeOf<Readonly<Record<never, string>>>();
  });

  it('types the body and query from the schemas the route names', () => {
    keyRouteHandler(ROUTES.createApiKey, (request) => {
      expectTypeOf(request.body).toEqualTypeOf<z.output<typeof CreateApiKeyBody>>();
      expectTypeOf(request.query).toEqualTypeOf<undefined>();
      return ok(null);
    });
    keyRouteHandler(ROUTES.listApiKeys, (request) => {
      expectTypeOf(request.query).toEqualTypeOf<z.output<typeof ListApiKeysQuery>>();
      expectTypeOf(request.body).toEqualTypeOf<undefined>();
      return ok(null);
    });
  });

  it('types an answer function by what the operation returns (no casts)', () => {
    keyRouteHandler(ROUTES.listApiKeys, () => ok({ count: 1 }), {
      answer: (value) => ({ status: 200, body: value.count }),
    });
    keyRouteHandler(
      ROUTES.listApiKeys,
      // @ts-expect-error: the operation answers a string, the answer function takes a number
      () => ok('one'),
      { answer: (value: number) => ({ status: 200, body: value }) },
    );
  });

  it('insists on exactly the adapters the route declares, at compile time and as it loads', () => {
    // @ts-expect-error: deleteApiKey declares the authorizer cache; it must be given
    expect(() => keyRouteHandler(ROUTES.deleteApiKey, () => ok(null))).toThrow(
      'DELETE /v3/api_keys/{api_key_id} declares adapters [authorizerCache] but was given []',
    );
    expect(() =>
      // @ts-expect-error: getApiKey declares none; a mailer would give it a client it may not use
      keyRouteHandler(ROUTES.getApiKey, () => ok(null), { adapters: MAILER }),
    ).toThrow('declares adapters [] but was given [mailer]');
    expect(() =>
      keyRouteHandler(ROUTES.deleteApiKey, () => ok(null), { adapters: AUTHORIZER_CACHE_FLUSH }),
    ).not.toThrow();
  });

  it("parses request bodies into exactly the domain's types where the domain keeps SendGrid's model", () => {
    // Each way: what the schema parses is a domain message, and every domain message parses.
    expectTypeOf<z.output<typeof SendMailBody>>().toExtend<MailPayload>();
    expectTypeOf<MailPayload>().toExtend<z.output<typeof SendMailBody>>();
    expectTypeOf<z.output<typeof Personalization>>().toEqualTypeOf<MailPersonalization>();
    expectTypeOf<z.output<typeof MailTo>>().toEqualTypeOf<MailAddress>();
  });

  it('refuses a request that lacks a path parameter, instead of handing the domain an empty ID', () => {
    expect(pathParametersOf('/v3/api_keys/{api_key_id}', { api_key_id: 'abc' })).toEqual({
      api_key_id: 'abc',
    });
    expect(() => pathParametersOf('/v3/api_keys/{api_key_id}', {})).toThrow(
      'the path parameter api_key_id is missing',
    );
    expect(() => pathParametersOf('/v3/api_keys/{api_key_id}', { api_key_id: '' })).toThrow();
    expect(() => pathParametersOf('/v3/api_keys/{api_key_id}', null)).toThrow();
  });
});
