import { Duration } from 'aws-cdk-lib';
import type { KeygateProps } from './constructs/keygate.js';

/**
 * Deployment settings from CDK context, so a team configures the stack without editing code:
 * `npx cdk deploy -c keygate:sesIdentity=example.com -c keygate:authorizerCacheTtlSeconds=60`.
 * The same keys can live under `context` in `cdk.json`. Values from `-c` arrive as strings.
 */
export const CONTEXT_KEYS = {
  sesIdentity: 'keygate:sesIdentity',
  keyPrefix: 'keygate:keyPrefix',
  defaultKeyLimit: 'keygate:defaultKeyLimit',
  authorizerCacheTtlSeconds: 'keygate:authorizerCacheTtlSeconds',
  stageName: 'keygate:stageName',
  throttleRateLimit: 'keygate:throttleRateLimit',
  throttleBurstLimit: 'keygate:throttleBurstLimit',
  cloudWatchRole: 'keygate:cloudWatchRole',
  stageLogs: 'keygate:stageLogs',
  sesSandboxRecipients: 'keygate:sesSandboxRecipients',
  console: 'keygate:console',
  sourceLimits: 'keygate:sourceLimits',
  consoleDomainName: 'keygate:consoleDomainName',
  consoleCertificateArn: 'keygate:consoleCertificateArn',
  monitoring: 'keygate:monitoring',
} as const;

export function keygatePropsFromContext(get: (key: string) => unknown): KeygateProps {
  const text = (key: string): string | undefined => {
    const value = get(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new Error(`context ${key} must be a string, number or boolean`);
    }
    return String(value);
  };
  const integer = (key: string): number | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new Error(`context ${key} must be an integer, got "${value}"`);
    return Number(value);
  };
  const flag = (key: string): boolean | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') {
      throw new Error(`context ${key} must be true or false, got "${value}"`);
    }
    return value === 'true';
  };

  const ttl = integer(CONTEXT_KEYS.authorizerCacheTtlSeconds);
  const rate = integer(CONTEXT_KEYS.throttleRateLimit);
  const burst = integer(CONTEXT_KEYS.throttleBurstLimit);
  if ((rate === undefined) !== (burst === undefined)) {
    throw new Error(
      `context ${CONTEXT_KEYS.throttleRateLimit} and ${CONTEXT_KEYS.throttleBurstLimit} go together`,
    );
  }
  const consoleDomainName = text(CONTEXT_KEYS.consoleDomainName);
  const consoleCertificateArn = text(CONTEXT_KEYS.consoleCertificateArn);
  if ((consoleDomainName === undefined) !== (consoleCertificateArn === undefined)) {
    throw new Error(
      `context ${CONTEXT_KEYS.consoleDomainName} and ${CONTEXT_KEYS.consoleCertificateArn} go together`,
    );
  }
  const props: {
    -readonly [K in keyof KeygateProps]: KeygateProps[K];
  } = {};
  const sesIdentity = text(CONTEXT_KEYS.sesIdentity);
  if (sesIdentity !== undefined) props.sesIdentity = sesIdentity;
  // A comma-separated list on the command line; a JSON array under `context` in cdk.json.
  const recipients = get(CONTEXT_KEYS.sesSandboxRecipients);
  const recipientList = Array.isArray(recipients)
    ? recipients.map(String)
    : (text(CONTEXT_KEYS.sesSandboxRecipients)?.split(',') ?? []);
  const sandboxRecipients = recipientList.map((r) => r.trim()).filter((r) => r !== '');
  if (sandboxRecipients.length > 0) props.sesSandboxRecipients = sandboxRecipients;
  const keyPrefix = text(CONTEXT_KEYS.keyPrefix);
  if (keyPrefix !== undefined) props.keyPrefix = keyPrefix;
  const limit = integer(CONTEXT_KEYS.defaultKeyLimit);
  if (limit !== undefined) props.defaultKeyLimit = limit;
  if (ttl !== undefined) props.authorizerCacheTtl = Duration.seconds(ttl);
  const stageName = text(CONTEXT_KEYS.stageName);
  if (stageName !== undefined) props.stageName = stageName;
  if (rate !== undefined && burst !== undefined) {
    props.throttling = { rateLimit: rate, burstLimit: burst };
  }
  const cloudWatchRole = flag(CONTEXT_KEYS.cloudWatchRole);
  if (cloudWatchRole !== undefined) props.cloudWatchRole = cloudWatchRole;
  const stageLogs = flag(CONTEXT_KEYS.stageLogs);
  if (stageLogs !== undefined) props.stageLogs = stageLogs;
  const sourceLimits = flag(CONTEXT_KEYS.sourceLimits);
  if (sourceLimits !== undefined) props.sourceLimits = sourceLimits;
  const webConsole = flag(CONTEXT_KEYS.console);
  if (webConsole !== undefined) props.console = webConsole;
  const monitoring = flag(CONTEXT_KEYS.monitoring);
  if (monitoring !== undefined) props.monitoring = monitoring;
  if (consoleDomainName !== undefined && consoleCertificateArn !== undefined) {
    props.consoleDomain = { domainName: consoleDomainName, certificateArn: consoleCertificateArn };
  }
  return props;
}
