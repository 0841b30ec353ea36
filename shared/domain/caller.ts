import type { Limits } from './limits.js';
import type { KeyType } from './scopes.js';

/** Who is calling: what the authorizer established about the presented key. */
export interface Caller {
  accountId: string;
  keyId: string;
  type: KeyType;
  scopes: readonly string[];
  /** The request's source address, for the audit log. */
  sourceIp?: string | null;
  /** Which secret was presented (a retiring one never reaches the operations that manage keys). */
  secret?: 'current' | 'previous';
  /**
   * When the presented secret stops working (RFC 3339): the key's expiry. A key never grants
   * beyond it: keys it creates, replaces or rolls expire no later.
   */
  expiresAt?: string;
  /** The key's IP allowlist (never the owner key's): keys it manages are confined to it. */
  allowedIps?: readonly string[];
  /**
   * The key's own limits: counted on every request it makes, and a ceiling for the limits of
   * the keys it creates or replaces (never looser than its own).
   */
  limits?: Limits;
  /**
   * The `on-behalf-of` header as sent: the subuser the key asks to act for, not yet resolved.
   * `actingCaller` (`subusers.ts`) turns it into {@link parentAccountId}.
   */
  onBehalfOf?: string;
  /**
   * Set when a parent's key acts for its subuser: the key's own account (the parent), while
   * `accountId` is the subuser's. The audit log records both.
   */
  parentAccountId?: string;
  /** An operator (the CLI) acting as the account: the audit log records no actor key. */
  operator?: boolean;
}
