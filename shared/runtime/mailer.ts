import { OutboxMailer } from '../adapters/local/outbox-mailer.js';
import { SesMailer } from '../adapters/ses/mailer.js';
import type { ProvidersOf } from './deps.js';

/** Sending mail: SES as the configured identity, or the local outbox. Only mail send uses it. */
export const MAILER: ProvidersOf<'mailer'> = {
  mailer: (config) =>
    config.mailer.kind === 'outbox'
      ? new OutboxMailer(config.mailer.dir)
      : new SesMailer({ identity: config.mailer.identity }),
};
