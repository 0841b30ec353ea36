/**
 * Stores `value` under `key` in a memo, emptying the memo first when it already holds `max`
 * entries: the hot path's memos (decoded scopes, policies, compiled patterns) stay bounded
 * however many distinct keys a long-lived process sees. Returns `value`.
 */
export function remember<K, V>(memo: Map<K, V>, key: K, value: V, max: number): V {
  if (memo.size >= max) memo.clear();
  memo.set(key, value);
  return value;
}
