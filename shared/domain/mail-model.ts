/**
 * The message mail send relays: SendGrid's v3 mail payload, which is Keygate's mail model too
 * (the mailers turn it into SES calls or outbox files field by field), so its names are
 * SendGrid's. The request schema (`shared/schemas/mail.ts`) parses exactly this type: a type
 * test holds the two together, and the domain imports nothing of the wire layer.
 */

export interface MailAddress {
  email: string;
  name?: string | undefined;
}

type Toggle = { enable?: boolean | undefined };
type Text = string | undefined;

export interface MailPersonalization {
  to: MailAddress[];
  cc?: MailAddress[] | undefined;
  bcc?: MailAddress[] | undefined;
  from?: MailAddress | undefined;
  subject?: Text;
  headers?: Record<string, string> | undefined;
  substitutions?: Record<string, string> | undefined;
  dynamic_template_data?: Record<string, unknown> | undefined;
  custom_args?: Record<string, string> | undefined;
  send_at?: number | undefined;
}

export interface MailAttachment {
  content: string;
  type?: Text;
  filename: string;
  disposition?: 'inline' | 'attachment' | undefined;
  content_id?: Text;
}

export interface MailPayload {
  personalizations: MailPersonalization[];
  from?: MailAddress | undefined;
  reply_to?: MailAddress | undefined;
  reply_to_list?: MailAddress[] | undefined;
  subject?: Text;
  content?: { type: string; value: string }[] | undefined;
  attachments?: MailAttachment[] | undefined;
  template_id?: Text;
  headers?: Record<string, string> | undefined;
  categories?: string[] | undefined;
  custom_args?: Record<string, string> | undefined;
  send_at?: number | undefined;
  batch_id?: Text;
  asm?: { group_id: number; groups_to_display?: number[] | undefined } | undefined;
  ip_pool_name?: Text;
  mail_settings?:
    | {
        bypass_list_management?: Toggle | undefined;
        bypass_spam_management?: Toggle | undefined;
        bypass_bounce_management?: Toggle | undefined;
        bypass_unsubscribe_management?: Toggle | undefined;
        footer?: (Toggle & { text?: Text; html?: Text }) | undefined;
        sandbox_mode?: Toggle | undefined;
      }
    | undefined;
  tracking_settings?:
    | {
        click_tracking?: (Toggle & { enable_text?: boolean | undefined }) | undefined;
        open_tracking?: (Toggle & { substitution_tag?: Text }) | undefined;
        subscription_tracking?:
          | (Toggle & { text?: Text; html?: Text; substitution_tag?: Text })
          | undefined;
        ganalytics?:
          | (Toggle & {
              utm_source?: Text;
              utm_medium?: Text;
              utm_term?: Text;
              utm_content?: Text;
              utm_campaign?: Text;
            })
          | undefined;
      }
    | undefined;
}
