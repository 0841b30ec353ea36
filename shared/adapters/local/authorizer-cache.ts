import type { AuthorizerCache } from '../../domain/ports.js';

const flushers = new Set<() => void>();

/**
 * Lets an in-process gateway (the local emulator) receive flushes. Returns the unregister
 * function.
 */
export function onLocalAuthorizerCacheFlush(flush: () => void): () => void {
  flushers.add(flush);
  return () => flushers.delete(flush);
}

/** The local runtime's {@link AuthorizerCache}: flushes every emulator in this process. */
export class LocalAuthorizerCache implements AuthorizerCache {
  async flush(): Promise<void> {
    for (const flush of flushers) flush();
  }
}
