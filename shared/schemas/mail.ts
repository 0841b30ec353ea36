import * as z from 'zod';
import { MAIL_MESSAGES, MAX_CATEGORIES, MAX_RECIPIENTS } from '../domain/mail-messages.js';
import type { MailAddress, MailPayload, MailPersonalization } from '../domain/mail-model.js';

/**
 * The SendGrid v3 mail payload (`POST /v3/mail/send`), as SendGrid's OpenAPI describes it
 * (`tsg_mail_v3.json`). This schema checks shapes and types, field by field, with SendGrid's
 * field names (`personalizations.0.to.0.email`) and, where SendGrid documents one, its message.
 * Rules that span fields or need the clock (subject or template, content or template, recipient
 * count, duplicates, address syntax, `send_at` horizon, substitution limits) live in
 * `shared/domain/mail.ts`, so that they are reported together in one 400 as SendGrid does.
 * Unknown fields are dropped.
 */

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

/**
 * An address object. `email` is only required to be a string here; its syntax is checked by the
 * domain (so an invalid address is reported together with the other rules).
 */
const address = (message: string) =>
  z.object(
    {
      email: z.string({ error: message }).meta({
        format: 'email',
        description: 'The email address.',
      }),
      name: z
        .string({ error: 'name must be a string' })
        .optional()
        .meta({ description: 'A display name, such as "Alex".' }),
    },
    { error: message },
  );

export const MailFrom = address(MAIL_MESSAGES.from).meta({ id: 'MailFrom' });
export const MailTo = address(MAIL_MESSAGES.invalidAddress).meta({ id: 'MailTo' });

const stringMap = (what: string) =>
  z.record(z.string(), z.string({ error: `${what} values must be strings` }), {
    error: `${what} must be an object`,
  });

const recipients = (max: number, what: string) =>
  z.array(MailTo, { error: `${what} must be an array of address objects` }).max(max, {
    error: MAIL_MESSAGES.recipientLimit,
  });

/**
 * Deepest nesting accepted in `dynamic_template_data`, the one field that takes any JSON. A
 * template needs a few levels; thousands (a 5 MiB body holds millions) overflow the stack of
 * whatever serialises the message (a 500 from the local outbox, found by fuzzing).
 */
export const MAX_TEMPLATE_DATA_DEPTH = 64;

/** Whether `value` nests deeper than `levels`; never descends further than that. */
function nestedDeeperThan(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (levels === 0) return true;
  return Object.values(value).some((v) => nestedDeeperThan(v, levels - 1));
}

const sendAt = z
  .int({ error: 'send_at must be a unix timestamp (integer seconds)' })
  .nonnegative({ error: 'send_at must be a unix timestamp (integer seconds)' });

export const Personalization = z
  .object(
    {
      to: z
        .array(MailTo, { error: MAIL_MESSAGES.to })
        .min(1, { error: MAIL_MESSAGES.to })
        .max(MAX_RECIPIENTS, { error: MAIL_MESSAGES.recipientLimit }),
      cc: recipients(MAX_RECIPIENTS, 'cc').optional(),
      bcc: recipients(MAX_RECIPIENTS, 'bcc').optional(),
      from: MailFrom.optional().meta({ description: 'Overrides the message-level from.' }),
      subject: z
        .string({ error: MAIL_MESSAGES.subject })
        .min(1, { error: MAIL_MESSAGES.subject })
        .optional(),
      headers: stringMap('headers').optional(),
      substitutions: stringMap('substitutions').optional().meta({
        description:
          'Tags replaced in the subject and content, in one pass (replaced text is not scanned again; where keys overlap, the longest wins). No empty key; keys and values together at most 10,000 bytes of UTF-8.',
      }),
      dynamic_template_data: z
        .record(z.string(), z.unknown(), { error: 'dynamic_template_data must be an object' })
        .refine((data) => !nestedDeeperThan(data, MAX_TEMPLATE_DATA_DEPTH), {
          error: `dynamic_template_data may be nested at most ${MAX_TEMPLATE_DATA_DEPTH} levels deep`,
        })
        .optional(),
      custom_args: stringMap('custom_args').optional(),
      send_at: sendAt.optional(),
    },
    { error: MAIL_MESSAGES.personalizations },
  )
  .meta({ id: 'MailPersonalization' });

const Content = z.object({
  type: z
    .string({ error: MAIL_MESSAGES.contentType })
    .min(1, { error: MAIL_MESSAGES.contentType })
    .meta({ description: 'MIME type, e.g. text/plain or text/html.' }),
  value: z
    .string({ error: MAIL_MESSAGES.contentValue })
    .min(1, { error: MAIL_MESSAGES.contentValue }),
});

const Attachment = z.object({
  content: z
    .string({ error: MAIL_MESSAGES.attachmentContent })
    .min(1, { error: MAIL_MESSAGES.attachmentContent })
    .regex(BASE64, { error: MAIL_MESSAGES.attachmentContent })
    .meta({ description: 'The Base64 encoded content of the attachment.' }),
  type: z.string().min(1).optional(),
  filename: z
    .string({ error: MAIL_MESSAGES.attachmentFilename })
    .min(1, { error: MAIL_MESSAGES.attachmentFilename }),
  disposition: z.enum(['inline', 'attachment']).optional(),
  content_id: z.string().optional(),
});

const toggle = z.object({ enable: z.boolean({ error: 'enable must be a boolean' }).optional() });

const MailSettings = z.object({
  bypass_list_management: toggle.optional(),
  bypass_spam_management: toggle.optional(),
  bypass_bounce_management: toggle.optional(),
  bypass_unsubscribe_management: toggle.optional(),
  footer: toggle.extend({ text: z.string().optional(), html: z.string().optional() }).optional(),
  sandbox_mode: toggle
    .optional()
    .meta({ description: 'enable: validate the request, deliver nothing, answer 200.' }),
});

const TrackingSettings = z.object({
  click_tracking: toggle.extend({ enable_text: z.boolean().optional() }).optional(),
  open_tracking: toggle.extend({ substitution_tag: z.string().optional() }).optional(),
  subscription_tracking: toggle
    .extend({
      text: z.string().optional(),
      html: z.string().optional(),
      substitution_tag: z.string().optional(),
    })
    .optional(),
  ganalytics: toggle
    .extend({
      utm_source: z.string().optional(),
      utm_medium: z.string().optional(),
      utm_term: z.string().optional(),
      utm_content: z.string().optional(),
      utm_campaign: z.string().optional(),
    })
    .optional(),
});

export const SendMailBody = z
  .object({
    personalizations: z
      .array(Personalization, { error: MAIL_MESSAGES.personalizations })
      .min(1, { error: MAIL_MESSAGES.personalizations })
      // Every personalization has at least one recipient, so more than 1000 of them always
      // exceeds the recipient limit.
      .max(MAX_RECIPIENTS, { error: MAIL_MESSAGES.recipientLimit }),
    // Optional here so that a missing `from` is reported by the domain on `from.email` (as
    // SendGrid does), together with the other errors; the document still lists it as required.
    from: MailFrom.optional(),
    reply_to: MailTo.optional(),
    reply_to_list: z
      .array(MailTo, { error: 'reply_to_list must be an array of address objects' })
      .max(MAX_RECIPIENTS)
      .optional(),
    subject: z
      .string({ error: MAIL_MESSAGES.subject })
      .min(1, { error: MAIL_MESSAGES.subject })
      .optional(),
    content: z.array(Content, { error: MAIL_MESSAGES.content }).optional(),
    attachments: z
      .array(Attachment, { error: 'attachments must be an array of attachment objects' })
      .optional(),
    template_id: z.string({ error: 'template_id must be a string' }).min(1).optional(),
    headers: stringMap('headers').optional(),
    categories: z
      .array(z.string({ error: MAIL_MESSAGES.category }).max(255, MAIL_MESSAGES.category), {
        error: MAIL_MESSAGES.categories,
      })
      .max(MAX_CATEGORIES, { error: MAIL_MESSAGES.categories })
      .refine((list) => new Set(list).size === list.length, { error: MAIL_MESSAGES.categories })
      .optional(),
    // SendGrid's spec types the message-level custom_args as a string; its API and clients send
    // an object of strings, like the personalization-level one.
    custom_args: stringMap('custom_args').optional(),
    send_at: sendAt.optional(),
    batch_id: z.string({ error: 'batch_id must be a string' }).optional(),
    asm: z
      .object({
        group_id: z.int({ error: 'asm.group_id must be an integer' }),
        groups_to_display: z.array(z.int()).max(25).optional(),
      })
      .optional(),
    ip_pool_name: z.string().min(2).max(64).optional(),
    mail_settings: MailSettings.optional(),
    tracking_settings: TrackingSettings.optional(),
  })
  .meta({ id: 'SendMailRequest', required: ['personalizations', 'from'] });

export type { MailAddress, MailPayload, MailPersonalization };
