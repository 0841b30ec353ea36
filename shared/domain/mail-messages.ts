/**
 * SendGrid's limit, in the description of `personalizations[].substitutions` in its OpenAPI for
 * Mail Send (`tsg_mail_v3`; Keygate's copy: test/contract/sendgrid-api-keys.openapi.json), as
 * published in the v3 Mail Send reference,
 * https://docs.sendgrid.com/api-reference/mail-send/mail-send : "The total collective size of
 * your substitutions may not exceed 10,000 bytes per personalization object." Counted as the
 * UTF-8 bytes of every key plus every value. (SendGrid's Substitution Tags guide, written for its
 * SMTP API, says 50,000 bytes per personalization block; Keygate follows the v3 contract.)
 */
export const MAX_SUBSTITUTIONS_BYTES = 10_000;

/**
 * Most bytes (UTF-8) that the subjects and contents of all personalizations together may take,
 * before and after substitution.
 *
 * Why a cap on the output: one pass bounds a rendering by (text length × longest value), and
 * that is far too much. The worst 5 MiB body, about 5 MiB of content with a 1-byte key worth
 * 9,999 bytes, renders as ~52 GB for one personalization. And every personalization renders
 * (SES sends one message each, the outbox stores each), so even without substitutions 1,000
 * personalizations of a ~5 MiB content make ~5 GB.
 *
 * Why 40 MB: it is Amazon SES's largest message, so a request may render, over all its
 * personalizations, what SES accepts as one message (1,000 personalizations of 40 KB each).
 * It keeps the mail Lambda (1 GB, holding every rendering at once) and the outbox file (one JSON
 * string, which V8 caps near 512 M characters, even if escaping grows control characters six
 * times) well within bounds; and since the text is measured before it is scanned, it bounds the
 * scan too.
 */
export const MAX_RENDERED_BYTES = 40_000_000;

/**
 * Mail send's messages and limits, read by both the request schema (`shared/schemas/mail.ts`)
 * and the rules (`mail.ts`): their own module, so neither imports the other.
 */

/** `10000` as `10,000`, as SendGrid writes its limits (without depending on the runtime's ICU). */
const grouped = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, ',');

/** SendGrid's messages, verbatim where SendGrid documents one (SendGrid contract notes, §5). */
export const MAIL_MESSAGES = {
  from: 'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}.',
  fromInvalid: 'The from email does not contain a valid address.',
  personalizations:
    'The personalizations field is required and must have at least one personalization.',
  to: 'The to parameter is required for all personalization objects.',
  invalidAddress: 'Does not contain a valid address.',
  recipientLimit: 'There is a limit of 1000 total recipients (to + cc + bcc) per request.',
  subject:
    'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
  content:
    'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
  contentValue: 'The content value must be a string at least one character in length.',
  contentType: 'The content type must be a string at least one character in length.',
  sendAtHorizon: 'Scheduling more than 72 hours in advance is forbidden.',
  duplicate: (email: string) =>
    `Each unique email address in the personalizations array should only be included once. You have included ${email} more than once.`,
  unverifiedSender:
    'The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender Identity requirements',
  // SendGrid's documented limit, in its own words (v3 Mail Send reference, `substitutions`).
  substitutionsSize: `The total collective size of your substitutions may not exceed ${grouped(MAX_SUBSTITUTIONS_BYTES)} bytes per personalization object.`,
  // Keygate's own wording, where SendGrid documents no message.
  replyToBoth: 'You can use either the reply_to property or reply_to_list property but not both.',
  categories: 'categories must be an array of at most 10 unique strings',
  category: 'a category must be a string of at most 255 characters',
  attachmentContent: 'The attachment content must be base64 encoded.',
  attachmentFilename: 'The attachment filename parameter is required.',
  templateUnsupported:
    "template_id is not supported by this deployment's mail service; send subject and content instead",
  substitutionKey: 'A substitution key must be a string at least one character in length.',
  renderedSize: `The subjects and contents of all personalizations together may not exceed ${grouped(MAX_RENDERED_BYTES)} bytes (UTF-8), before or after substitutions.`,
} as const;

/** Most recipients (to + cc + bcc over all personalizations) one request may address. */
export const MAX_RECIPIENTS = 1000;
/** Most categories one message may carry. */
export const MAX_CATEGORIES = 10;
/** How far ahead `send_at` may schedule a send. */
export const SEND_AT_HORIZON_SECONDS = 72 * 3600;
