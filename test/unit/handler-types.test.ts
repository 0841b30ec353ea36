import { describe, expect, expectTypeOf, it } from 'vitest';
import { ok } from '../../shared/domain/errors.js';
import {
  type ApiRequest,
  keyRouteHandler,
  type PathParameterNames,
  type PathParameters,
  pathParametersOf,
} from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';

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
    keyRouteHandler({ route: ROUTES.getApiKey, status: 200 }, (request) => {
      expectTypeOf(request.pathParameters.api_key_id).toEqualTypeOf<string>();
      // @ts-expect-error: getApiKey has no subuser_name
      void request.pathParameters.subuser_name;
      return ok(request.pathParameters.api_key_id);
    });
    expectTypeOf<
      ApiRequest<undefined, undefined, '/v3/api_keys'>['pathParameters']
    >().toEqualTypeOf<Readonly<Record<never, string>>>();
  });

  it('types a status function by what the operation returns (no casts)', () => {
    keyRouteHandler(
      {
        route: ROUTES.listApiKeys,
        status: (value: { count: number }) => ({ status: 200, body: value.count }),
      },
      () => ok({ count: 1 }),
    );
    keyRouteHandler(
      { route: ROUTES.listApiKeys, status: (value: number) => ({ status: 200, body: value }) },
      // @ts-expect-error: the operation answers a string, the status function takes a number
      () => ok('one'),
    );
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
