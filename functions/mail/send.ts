import { type SentMail, sendMail } from '../../shared/domain/mail.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { MAILER } from '../../shared/runtime/mailer.js';

/**
 * Mail bodies may be far larger than API-key bodies (content, attachments). SendGrid accepts up
 * to 30 MB, but a synchronous Lambda invocation carries at most 6 MB of event (body, headers
 * and request context together), so Keygate stops at 5 MiB and answers 413 beyond.
 */
const MAX_MAIL_BODY_BYTES = 5 * 1024 * 1024;

export const handler = keyRouteHandler(
  ROUTES.sendMail,
  ({ caller, body }, deps) => sendMail(deps, caller, body),
  {
    adapters: MAILER,
    maxBodyBytes: MAX_MAIL_BODY_BYTES,
    fieldPath: 'dotted',
    // SendGrid answers 202 with an empty body and the ID in X-Message-Id; sandbox mode 200.
    answer: (sent: SentMail) =>
      sent.sandbox ? { status: 200 } : { status: 202, headers: { 'x-message-id': sent.messageId } },
  },
);
