import type { Caller } from './caller.js';
import {
  type FieldError,
  ForbiddenError,
  fail,
  ok,
  type Result,
  ValidationError,
} from './errors.js';
import { randomId } from './key-format.js';
import {
  MAIL_MESSAGES,
  MAX_CATEGORIES,
  MAX_RECIPIENTS,
  SEND_AT_HORIZON_SECONDS,
} from './mail-messages.js';
import type { MailAddress, MailPayload } from './mail-model.js';
import type { Deps, Mailer, OutgoingMail } from './ports.js';
import { MAX_RENDERED_BYTES, renderedBytes, substitutionsProblems } from './substitutions.js';

// Where the schema and the rules both read them (`mail-messages.ts` breaks the import cycle).
export { MAIL_MESSAGES, MAX_CATEGORIES, MAX_RECIPIENTS, SEND_AT_HORIZON_SECONDS };

/**
 * `POST /v3/mail/send`: SendGrid's rules that span fields, the sender check, sandbox mode, and
 * the hand-over to the {@link Mailer}. The zod schema (`shared/schemas/mail.ts`) has already
 * checked shapes and types; everything here is reported with SendGrid's field names and messages.
 */

const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/**
 * A deliverable ASCII address: dot-atom local part, a dotted host name with an alphabetic (or
 * punycode) top-level domain. Quoted local parts, IP literals and non-ASCII addresses are
 * refused: Amazon SES cannot send to them either.
 */
const EMAIL = new RegExp(
  `^${ATOM}(?:\\.${ATOM})*@(?:${LABEL}\\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$`,
);

/** Whether `value` is an address Keygate accepts (RFC 5321 length limits included). */
export function isValidEmail(value: string): boolean {
  const at = value.lastIndexOf('@');
  return value.length <= 254 && at > 0 && at <= 64 && EMAIL.test(value);
}

/** What a successful send answers: 202 with the message ID, or 200 in sandbox mode. */
export interface SentMail {
  /** Sandbox mode: validated, nothing delivered. */
  sandbox: boolean;
  /** 22 base64url characters, returned as `X-Message-Id`. */
  messageId: string;
}

/**
 * Validates a mail payload and hands it to the mailer, as SendGrid's mail send does.
 *
 * 1. Cross-field rules (see {@link mailErrors}): all failures together, 400.
 * 2. Every sender (`from`, and any personalization's `from`) must be one the mailer may send
 *    from, else 403 with SendGrid's unverified Sender Identity message.
 * 3. `mail_settings.sandbox_mode.enable === true`: nothing is sent, `{ sandbox: true }`.
 * 4. Otherwise the message is handed to `deps.mailer` with a fresh message ID. Mailer failures
 *    propagate (the adapter decides whether they are retryable).
 *
 * @param caller The key sending; its ID (never the key) is recorded on the message.
 * @param payload The payload as parsed by `SendMailBody`.
 */
export async function sendMail(
  deps: Deps,
  caller: Caller,
  payload: MailPayload,
): Promise<Result<SentMail>> {
  const now = deps.now();
  const errors = mailErrors(payload, now, deps.mailer);
  if (errors.length > 0) return fail(new ValidationError(errors));
  const refused = senders(payload).find((s) => !deps.mailer.canSendFrom(s.address.email));
  if (refused) return fail(new ForbiddenError(MAIL_MESSAGES.unverifiedSender, refused.field));
  const messageId = randomId();
  if (payload.mail_settings?.sandbox_mode?.enable === true) return ok({ sandbox: true, messageId });
  const mail: OutgoingMail = {
    accountId: caller.accountId,
    keyId: caller.keyId,
    messageId,
    payload,
    acceptedAt: now.toISOString(),
  };
  await deps.mailer.send(mail);
  return ok({ sandbox: false, messageId });
}

/**
 * SendGrid's rules that the schema cannot express field by field, in SendGrid's order and with
 * its field names. Empty when the payload may be sent.
 *
 * - `from` is required; every address must be valid ({@link isValidEmail}).
 * - An address appears at most once per personalization (to, cc and bcc together, ignoring case).
 * - At most {@link MAX_RECIPIENTS} recipients over all personalizations.
 * - `subject` is required unless `template_id` is set or every personalization has a subject.
 * - `content` (at least one block) is required unless `template_id` is set.
 * - `template_id` only when the mailer can use it ({@link Mailer.canUseTemplate}).
 * - `reply_to` and `reply_to_list` are exclusive; `send_at` at most 72 hours ahead.
 * - A personalization's `substitutions` have no empty key and take at most 10,000 bytes
 *   ({@link MAX_SUBSTITUTIONS_BYTES}); every personalization's subject and content, rendered,
 *   take at most {@link MAX_RENDERED_BYTES} together (measured without rendering, and only once
 *   every map is within its limit, so that the measure is bounded too).
 */
export function mailErrors(
  payload: MailPayload,
  now: Date,
  mailer: Pick<Mailer, 'canUseTemplate'>,
): FieldError[] {
  const errors: FieldError[] = [];
  const add = (field: string, message: string) => errors.push({ field, message });
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const checkSendAt = (field: string, sendAt: number | undefined) => {
    if (sendAt !== undefined && sendAt > nowSeconds + SEND_AT_HORIZON_SECONDS) {
      add(field, MAIL_MESSAGES.sendAtHorizon);
    }
  };

  if (payload.from === undefined) add('from.email', MAIL_MESSAGES.from);
  else if (!isValidEmail(payload.from.email)) add('from.email', MAIL_MESSAGES.fromInvalid);

  let recipients = 0;
  let substitutionsUsable = true;
  payload.personalizations.forEach((p, i) => {
    const at = `personalizations.${i}`;
    if (p.from !== undefined && !isValidEmail(p.from.email)) {
      add(`${at}.from.email`, MAIL_MESSAGES.fromInvalid);
    }
    const seen = new Set<string>();
    const reported = new Set<string>();
    for (const list of ['to', 'cc', 'bcc'] as const) {
      (p[list] ?? []).forEach((recipient, j) => {
        recipients += 1;
        const field = `${at}.${list}.${j}.email`;
        if (!isValidEmail(recipient.email)) add(field, MAIL_MESSAGES.invalidAddress);
        const normalised = recipient.email.toLowerCase();
        if (!seen.has(normalised)) seen.add(normalised);
        else if (!reported.has(normalised)) {
          reported.add(normalised);
          add(field, MAIL_MESSAGES.duplicate(recipient.email));
        }
      });
    }
    checkSendAt(`${at}.send_at`, p.send_at);
    for (const problem of substitutionsProblems(p.substitutions ?? {})) {
      substitutionsUsable = false;
      add(
        `${at}.substitutions`,
        problem === 'empty_key' ? MAIL_MESSAGES.substitutionKey : MAIL_MESSAGES.substitutionsSize,
      );
    }
  });
  if (recipients > MAX_RECIPIENTS) add('personalizations', MAIL_MESSAGES.recipientLimit);

  if (payload.reply_to !== undefined && !isValidEmail(payload.reply_to.email)) {
    add('reply_to.email', MAIL_MESSAGES.invalidAddress);
  }
  payload.reply_to_list?.forEach((r, j) => {
    if (!isValidEmail(r.email)) add(`reply_to_list.${j}.email`, MAIL_MESSAGES.invalidAddress);
  });
  if (payload.reply_to !== undefined && payload.reply_to_list !== undefined) {
    add('reply_to_list', MAIL_MESSAGES.replyToBoth);
  }

  const template = payload.template_id;
  if (template === undefined) {
    const everyPersonalizationHasSubject = payload.personalizations.every(
      (p) => p.subject !== undefined,
    );
    if (payload.subject === undefined && !everyPersonalizationHasSubject) {
      add('subject', MAIL_MESSAGES.subject);
    }
    if (payload.content === undefined || payload.content.length === 0) {
      add('content', MAIL_MESSAGES.content);
    }
  } else if (!mailer.canUseTemplate(template)) {
    add('template_id', MAIL_MESSAGES.templateUnsupported);
  }
  checkSendAt('send_at', payload.send_at);
  if (substitutionsUsable && renderedBytes(payload, MAX_RENDERED_BYTES) > MAX_RENDERED_BYTES) {
    add('personalizations', MAIL_MESSAGES.renderedSize);
  }
  return errors;
}

/** Every sender address of a payload with its field: `from`, then personalization overrides. */
function senders(payload: MailPayload): { field: string; address: MailAddress }[] {
  const list: { field: string; address: MailAddress }[] = [];
  if (payload.from) list.push({ field: 'from', address: payload.from });
  payload.personalizations.forEach((p, i) => {
    if (p.from) list.push({ field: `personalizations.${i}.from`, address: p.from });
  });
  return list;
}
