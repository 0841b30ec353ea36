import { revokeLeakedKeys } from '../../shared/domain/roll-and-revoke.js';
import { publicOperationHandler } from '../../shared/http/api-handler.js';
import { RevokeLeakedKeysBody } from '../../shared/schemas/api-keys.js';

export const handler = publicOperationHandler(
  { body: RevokeLeakedKeysBody, status: 202 },
  ({ body, sourceIp }, deps) => revokeLeakedKeys(deps, body, sourceIp),
);
