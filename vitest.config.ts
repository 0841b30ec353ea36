import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The package's own names (`keygate/runtime` in the example) resolve to the sources here, as
  // tsconfig.json's `paths` say; a consumer's tools get dist/ through package.json's exports.
  resolve: { tsconfigPaths: true },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          setupFiles: ['test/integration/setup-env.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Whole user journeys in a real browser, beside the other tiers on 2 cores: generous
          // limits, so a busy machine slows them down without failing them.
          testTimeout: 240_000,
          hookTimeout: 240_000,
          expect: { poll: { timeout: 30_000 } },
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          globalSetup: ['test/infra/global-setup.ts'],
          setupFiles: ['test/infra/setup.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
