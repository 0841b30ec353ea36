import type { Mailer, OutgoingMail } from '../../domain/ports.js';

/** STUB: replaced by the mail issue work. */
export class SesMailer implements Mailer {
  constructor(readonly options: { identity: string | undefined }) {}
  async send(_mail: OutgoingMail): Promise<void> {
    throw new Error('not implemented');
  }
}
