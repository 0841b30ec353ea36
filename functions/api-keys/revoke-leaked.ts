import { revokeLeakedKeys } from '../../shared/domain/roll-and-revoke.js';
import { publicOperationHandler } from '../../shared/http/api-handler.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';
import { RevokeLeakedKeysBody } from '../../shared/schemas/api-keys.js';

export const handler = publicOperationHandler(
  { body: RevokeLeakedKeysBody, status: 202, uses: [AUTHORIZER_CACHE_FLUSH] },
  ({ body, sourceIp }, deps) => revokeLeakedKeys(deps, body, sourceIp),
);
