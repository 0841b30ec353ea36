import {
  type Attachment,
  SESv2Client,
  SendEmailCommand,
  type SendEmailCommandInput,
} from '@aws-sdk/client-sesv2';
import { ForbiddenError, ServiceUnavailableError } from '../../domain/errors.js';
import type { Mailer, OutgoingMail } from '../../domain/ports.js';
import { renderMessage } from '../../domain/substitutions.js';
import { logger as defaultLogger, type Logger } from '../../observability/logger.js';
import type { MailAddress, MailPayload, MailPersonalization } from '../../schemas/mail.js';

export interface SesMailerOptions {
  /**
   * The SES identity mail is sent as: an address (`noreply@example.com`) or a domain
   * (`example.com`). Unset: no sender is accepted (the deployment has no identity to send as,
   * and its role holds no SES permission), so every send is refused with 403.
   */
  identity: string | undefined;
  /** The SES client, or a factory for it; by default a `SESv2Client` for the Lambda's region. */
  client?: SESv2Client | (() => SESv2Client);
  /** Where a denied send is logged with SES's own message; the function's logger by default. */
  logger?: Logger;
}

/**
 * What the caller is told (403) when SES denies the function's role `ses:SendEmail`. Most often
 * the SES sandbox: there SES also authorizes the send against every recipient's identity, so a
 * policy on the sender alone is denied (see `sesSandboxRecipients` in infra/constructs/keygate.ts
 * and docs/deploy.md). SES's own message, logged, names the identity it checked.
 */
export const SES_ACCESS_DENIED_MESSAGE =
  'Amazon SES denied this deployment permission to send the message. While its SES account is ' +
  'in the sandbox, every recipient (to, cc, bcc) must be a verified SES identity listed in the ' +
  "deployment's keygate:sesSandboxRecipients setting; otherwise its IAM policy does not cover " +
  'what SES checked (the function logs which identity).';

/**
 * Without timeouts the SDK waits for ever on a hung SES. Each `SendEmail` gives up within about
 * 10 s (2 attempts of at most 5 s) as a retryable 503 (`retryable` counts the handler's
 * `TimeoutError`), inside the mail function's 28 s and API Gateway's 29 s.
 */
const SES_CLIENT = {
  maxAttempts: 2,
  requestHandler: {
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    throwOnRequestTimeout: true,
    socketTimeout: 5_000,
  },
} as const;

/** SendEmail calls in flight at once for one request (one per personalization). */
const CONCURRENT_SENDS = 10;

/**
 * Delivers mail with Amazon SES (API v2): one `SendEmail` per personalization, as a Simple
 * message (subject, text and HTML parts, attachments), from the personalization's `from` or the
 * message's, with its own to/cc/bcc and the message's reply-to. SendGrid substitutions are
 * applied to subject and content by `renderMessage` (`shared/domain/substitutions.ts`), the
 * rendering the local outbox stores too.
 *
 * What SES cannot do is explicit rather than silently approximated:
 * - `template_id`: SendGrid templates live at SendGrid; {@link canUseTemplate} is false, so the
 *   domain answers 400 before anything is sent, and {@link send} refuses such a message.
 * - Not forwarded: `headers`, `categories`, `custom_args`, `asm`, `ip_pool_name`, `batch_id`,
 *   tracking and mail settings (SendGrid features with no SES equivalent here). `send_at` is not
 *   honoured: SES has no scheduled send, so the message goes out on acceptance.
 *
 * Throttling and SES server faults become a retryable 503; SES denying the role (AccessDenied:
 * the SES sandbox checks recipients' identities too) a 403 that says so
 * ({@link SES_ACCESS_DENIED_MESSAGE}); other SES errors surface as 500.
 * Several personalizations are several sends: a failure can leave earlier ones delivered.
 */
export class SesMailer implements Mailer {
  private readonly identity: string | undefined;
  private readonly clientOption: SesMailerOptions['client'];
  private readonly logger: Logger;
  private client: SESv2Client | undefined;

  constructor(options: SesMailerOptions) {
    this.identity = options.identity?.toLowerCase();
    this.clientOption = options.client;
    this.logger = options.logger ?? defaultLogger;
  }

  /**
   * False without an identity (nothing may be sent); otherwise the address must be the identity
   * (ignoring case) or, for a domain identity, belong to exactly that domain.
   */
  canSendFrom(address: string): boolean {
    if (this.identity === undefined) return false;
    const candidate = address.toLowerCase();
    if (this.identity.includes('@')) return candidate === this.identity;
    return candidate.slice(candidate.lastIndexOf('@') + 1) === this.identity;
  }

  /** SES cannot render SendGrid templates. */
  canUseTemplate(_templateId: string): boolean {
    return false;
  }

  async send(mail: OutgoingMail): Promise<void> {
    if (mail.payload.template_id !== undefined) {
      throw new Error('SesMailer cannot send SendGrid templates (template_id)');
    }
    const inputs = mail.payload.personalizations.map((p) => sendEmailInput(mail.payload, p));
    const client = this.sesClient();
    for (let i = 0; i < inputs.length; i += CONCURRENT_SENDS) {
      await Promise.all(
        inputs.slice(i, i + CONCURRENT_SENDS).map(async (input) => {
          try {
            await client.send(new SendEmailCommand(input));
          } catch (error) {
            if (accessDenied(error)) {
              this.logger.warn(
                'SES denied SendEmail (in the SES sandbox: an unlisted recipient?)',
                {
                  error,
                },
              );
              throw new ForbiddenError(SES_ACCESS_DENIED_MESSAGE);
            }
            throw retryable(error)
              ? new ServiceUnavailableError({ cause: error, dependency: 'mail' })
              : error;
          }
        }),
      );
    }
  }

  /** The client, created on the first send (never for a request that sends nothing). */
  private sesClient(): SESv2Client {
    if (this.client === undefined) {
      const option = this.clientOption;
      this.client =
        option === undefined
          ? new SESv2Client(SES_CLIENT)
          : typeof option === 'function'
            ? option()
            : option;
    }
    return this.client;
  }
}

/** The SendEmail input for one personalization of a payload. */
export function sendEmailInput(
  payload: MailPayload,
  personalization: MailPersonalization,
): SendEmailCommandInput {
  const from = personalization.from ?? payload.from;
  if (from === undefined) throw new Error('a mail payload without a from address');
  const rendered = renderMessage(payload, personalization);
  const text = rendered.content.find((c) => c.type.toLowerCase() === 'text/plain');
  const html = rendered.content.find((c) => c.type.toLowerCase() === 'text/html');
  if (text === undefined && html === undefined) {
    throw new Error('SES needs a text/plain or text/html content block');
  }
  const replyTo = payload.reply_to ? [payload.reply_to] : (payload.reply_to_list ?? []);
  const attachments = payload.attachments?.map(
    (a): Attachment => ({
      RawContent: Buffer.from(a.content, 'base64'),
      FileName: a.filename,
      ContentType: a.type,
      ContentDisposition: a.disposition === 'inline' ? 'INLINE' : 'ATTACHMENT',
      ContentId: a.content_id,
    }),
  );
  return {
    FromEmailAddress: formatAddress(from),
    Destination: {
      ToAddresses: personalization.to.map(formatAddress),
      ...(personalization.cc?.length ? { CcAddresses: personalization.cc.map(formatAddress) } : {}),
      ...(personalization.bcc?.length
        ? { BccAddresses: personalization.bcc.map(formatAddress) }
        : {}),
    },
    ...(replyTo.length > 0 ? { ReplyToAddresses: replyTo.map(formatAddress) } : {}),
    Content: {
      Simple: {
        Subject: utf8(rendered.subject ?? ''),
        Body: {
          ...(text ? { Text: utf8(text.value) } : {}),
          ...(html ? { Html: utf8(html.value) } : {}),
        },
        ...(attachments?.length ? { Attachments: attachments } : {}),
      },
    },
  };
}

const utf8 = (data: string) => ({ Data: data, Charset: 'UTF-8' });

/**
 * An RFC 5322 mailbox: `"Name" <email>` for printable ASCII names (quoted, `\` and `"`
 * escaped), RFC 2047 encoded words for any other name (so no name can inject a header line).
 */
export function formatAddress(address: MailAddress): string {
  const { email, name } = address;
  if (name === undefined || name === '') return email;
  if (/^[\x20-\x7e]*$/.test(name)) return `"${name.replace(/[\\"]/g, '\\$&')}" <${email}>`;
  return `${encodedWords(name)} <${email}>`;
}

/** RFC 2047 B-encoded words of at most 45 bytes of UTF-8 each (72 characters per word). */
function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (Buffer.byteLength(chunk + char, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(' ');
}

/**
 * IAM refused the call: SES API v2 (REST-JSON) names it `AccessDeniedException`; `AccessDenied`
 * is the Query API's (SES v1) name for the same refusal.
 */
function accessDenied(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'AccessDeniedException' || name === 'AccessDenied';
}

function retryable(error: unknown): boolean {
  const e = error as { name?: string; $fault?: string; $retryable?: unknown };
  return (
    e.name === 'TooManyRequestsException' ||
    e.name === 'TimeoutError' ||
    e.$fault === 'server' ||
    Boolean(e.$retryable)
  );
}
