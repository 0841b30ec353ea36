/**
 * A subuser's username: what `on-behalf-of` names. SendGrid publishes no syntax (its support
 * says there is no strict policy; its v2 API capped names at 64 characters; its docs use an email
 * address as an example), so Keygate takes letters, digits and `.`, `_`, `-`, `@`, `+`, starting
 * with a letter or digit: every name fits in a header, a URL path and a log line unescaped.
 * Unique across the deployment whatever the case.
 */
export const SUBUSER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;

/** SendGrid's message for a username it refuses. */
export const INVALID_USERNAME = 'invalid username';
