import type { Mailer, OutgoingMail } from '../../domain/ports.js';

/** STUB: replaced by the mail issue work. */
export class OutboxMailer implements Mailer {
  constructor(readonly dir: string) {}
  async send(_mail: OutgoingMail): Promise<void> {
    throw new Error('not implemented');
  }
}
