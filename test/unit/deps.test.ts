import { afterEach, describe, expect, it, vi } from 'vitest';

const ENV = {
  KEYGATE_KEYS_TABLE: 'k',
  KEYGATE_ACCOUNTS_TABLE: 'a',
  KEYGATE_AUDIT_TABLE: 'e',
  AWS_REGION: 'eu-west-1',
};

describe('depsWith', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('refuses, by name, an adapter its function was not given, and builds one it was', async () => {
    // Arrange: a fresh module graph, as in a Lambda whose handler lists only the mailer.
    for (const [name, value] of Object.entries(ENV)) vi.stubEnv(name, value);
    vi.stubEnv('KEYGATE_OUTBOX_DIR', '/tmp/keygate-deps-test');
    vi.resetModules();
    const { depsWith } = await import('../../shared/runtime/deps.js');
    const { MAILER } = await import('../../shared/runtime/mailer.js');

    // Act
    const deps = depsWith(MAILER)();

    // Assert
    expect(() => deps.authorizerCache).toThrow(
      'this function was not given the authorizerCache adapter (declare it on its route)',
    );
    expect(deps.mailer.constructor.name).toBe('OutboxMailer');
  });
});
