import type { Context } from 'aws-lambda';
import { scanKeyWarnings } from '../../shared/domain/key-warnings.js';
import { addLambdaContext, logger } from '../../shared/observability/logger.js';
import { publishMetrics } from '../../shared/observability/metrics.js';
import { keyWarningDeps } from '../../shared/runtime/key-warnings.js';

/**
 * The key-warnings scan, on an EventBridge schedule (`infra/constructs/keygate.ts`): every key of
 * the deployment, each warning due recorded once in the audit log (so on the event bus), unused
 * keys disabled where the config says (docs/limits.md#warnings). A storage fault fails the run
 * (nothing is retried: the next scheduled run catches up, and what this one recorded is never
 * recorded twice).
 */
export async function handler(_event: unknown, context?: Context): Promise<void> {
  addLambdaContext(context);
  const deps = keyWarningDeps();
  try {
    const outcome = await scanKeyWarnings(deps, deps.settings);
    logger.info('key warnings scan', { ...outcome });
  } finally {
    // The disablings' flush metrics, also when the scan failed half-way.
    publishMetrics();
  }
}
