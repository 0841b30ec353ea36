/**
 * How long a rolled key's old secret keeps working: the caller's choice up to a week, a day when
 * it does not say. Domain policy; the roll request's schema enforces the same bounds.
 */
export const MAX_GRACE_SECONDS = 7 * 24 * 3600;
export const DEFAULT_GRACE_SECONDS = 24 * 3600;
