import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryKeyRepository } from '../../shared/adapters/memory/keys-repository.js';
import {
  formatAddress,
  SES_ACCESS_DENIED_MESSAGE,
  SesMailer,
} from '../../shared/adapters/ses/mailer.js';
import type { Caller } from '../../shared/domain/api-keys.js';
import { SENDGRID_CATALOGUE } from '../../shared/domain/catalogue.js';
import { ForbiddenError, ServiceUnavailableError } from '../../shared/domain/errors.js';
import {
  isValidEmail,
  MAIL_MESSAGES,
  MAX_RECIPIENTS,
  SEND_AT_HORIZON_SECONDS,
  sendMail,
} from '../../shared/domain/mail.js';
import type { Deps, Mailer, OutgoingMail } from '../../shared/domain/ports.js';
import {
  MAX_RENDERED_BYTES,
  MAX_SUBSTITUTIONS_BYTES,
  renderedBytes,
  renderMessage,
  substitute,
  substitutionsBytes,
  substitutionsProblems,
  utf8Length,
} from '../../shared/domain/substitutions.js';
import { openApiDocument } from '../../shared/openapi.js';
import { type MailPayload, SendMailBody } from '../../shared/schemas/mail.js';
import { failure, unwrap } from './support.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const NOW_SECONDS = NOW.getTime() / 1000;

/** SendGrid's documented minimal request ("Testing an API key"). */
const MINIMAL = {
  personalizations: [{ to: [{ email: 'recipient@example.com' }] }],
  from: { email: 'sender@example.com' },
  subject: 'Hello, World!',
  content: [{ type: 'text/plain', value: 'Howdy!' }],
};

const caller: Caller = {
  accountId: 'acct-1',
  keyId: 'AAAAAAAAAAAAAAAAAAAAAA',
  type: 'general',
  scopes: ['mail.send'],
};

/** An in-memory mailer: records what it is given; senders and templates are configurable. */
class FakeMailer implements Mailer {
  readonly sent: OutgoingMail[] = [];
  constructor(
    private readonly options: { senders?: readonly string[]; templates?: boolean } = {},
  ) {}
  async send(mail: OutgoingMail): Promise<void> {
    this.sent.push(structuredClone(mail));
  }
  canSendFrom(address: string): boolean {
    return this.options.senders?.includes(address) ?? true;
  }
  canUseTemplate(): boolean {
    return this.options.templates ?? true;
  }
}

function makeDeps(mailer: Mailer = new FakeMailer()): Deps {
  return {
    repo: new MemoryKeyRepository(),
    config: {
      keyPrefix: 'SG',
      defaultKeyLimit: 100,
      defaultSubuserLimit: 15,
      catalogue: SENDGRID_CATALOGUE,
    },
    now: () => NOW,
    authorizerCache: { flush: async () => {} },
    mailer,
  };
}

/** Parses a body exactly as the handler does; throws on a schema error. */
function parse(body: unknown): MailPayload {
  return SendMailBody.parse(body);
}

function issuesOf(body: unknown): { path: string; message: string }[] {
  const result = SendMailBody.safeParse(body);
  if (result.success) throw new Error('expected a schema error');
  return result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

const recipients = (n: number, domain = 'example.com') =>
  Array.from({ length: n }, (_, i) => ({ email: `r${i}@${domain}` }));

describe('SendMailBody (schema)', () => {
  it("accepts SendGrid's minimal request and drops unknown top-level fields", () => {
    // Act
    const parsed = SendMailBody.parse({ ...MINIMAL, account_id: 'other', type: 'owner' });

    // Assert
    expect(parsed).toEqual(MINIMAL);
  });

  it("accepts SendGrid's full example (no template) unchanged", () => {
    // Arrange
    const full = {
      ...MINIMAL,
      personalizations: [
        {
          to: [{ email: 'alex@example.com', name: 'Alex' }],
          cc: [{ email: 'charlie@example.com', name: 'Charlie' }],
          bcc: [{ email: 'dana@example.com', name: 'Dana' }],
          subject: 'Hi Alex',
          headers: { 'X-Test': '1' },
          substitutions: { '-name-': 'Alex' },
          custom_args: { order: '42' },
          send_at: 1617260400,
        },
      ],
      reply_to: { email: 'customer_service@example.com', name: 'Service' },
      attachments: [
        { content: 'aGVsbG8=', filename: 'a.txt', type: 'text/plain', disposition: 'attachment' },
      ],
      categories: ['cake', 'pie'],
      custom_args: { campaign: 'spring' },
      batch_id: 'AsdFgHjkl',
      asm: { group_id: 12345, groups_to_display: [12345] },
      ip_pool_name: 'transactional email',
      mail_settings: { sandbox_mode: { enable: false }, footer: { enable: false } },
      tracking_settings: { click_tracking: { enable: true, enable_text: false } },
    };

    // Act
    const parsed = SendMailBody.parse(full);

    // Assert
    expect(parsed).toEqual(full);
  });

  it.each([
    [
      'no personalizations',
      { ...MINIMAL, personalizations: undefined },
      'personalizations',
      MAIL_MESSAGES.personalizations,
    ],
    [
      'empty personalizations',
      { ...MINIMAL, personalizations: [] },
      'personalizations',
      MAIL_MESSAGES.personalizations,
    ],
    [
      'a personalization without to',
      { ...MINIMAL, personalizations: [{ cc: [{ email: 'a@example.com' }] }] },
      'personalizations.0.to',
      MAIL_MESSAGES.to,
    ],
    [
      'an empty to',
      { ...MINIMAL, personalizations: [{ to: [] }] },
      'personalizations.0.to',
      MAIL_MESSAGES.to,
    ],
    [
      'a recipient without email',
      { ...MINIMAL, personalizations: [{ to: [{ name: 'x' }] }] },
      'personalizations.0.to.0.email',
      MAIL_MESSAGES.invalidAddress,
    ],
    ['a from without email', { ...MINIMAL, from: { name: 'x' } }, 'from.email', MAIL_MESSAGES.from],
    ['an empty subject', { ...MINIMAL, subject: '' }, 'subject', MAIL_MESSAGES.subject],
    [
      'an empty content value',
      { ...MINIMAL, content: [{ type: 'text/plain', value: '' }] },
      'content.0.value',
      MAIL_MESSAGES.contentValue,
    ],
    [
      'a content block without type',
      { ...MINIMAL, content: [{ value: 'x' }] },
      'content.0.type',
      MAIL_MESSAGES.contentType,
    ],
    [
      '11 categories',
      { ...MINIMAL, categories: Array.from({ length: 11 }, (_, i) => `c${i}`) },
      'categories',
      MAIL_MESSAGES.categories,
    ],
    [
      'repeated categories',
      { ...MINIMAL, categories: ['a', 'a'] },
      'categories',
      MAIL_MESSAGES.categories,
    ],
    [
      'a category over 255 characters',
      { ...MINIMAL, categories: ['x'.repeat(256)] },
      'categories.0',
      MAIL_MESSAGES.category,
    ],
    [
      'an attachment that is not base64',
      { ...MINIMAL, attachments: [{ content: 'not base64!', filename: 'a.txt' }] },
      'attachments.0.content',
      MAIL_MESSAGES.attachmentContent,
    ],
    [
      'an attachment without filename',
      { ...MINIMAL, attachments: [{ content: 'aGk=' }] },
      'attachments.0.filename',
      MAIL_MESSAGES.attachmentFilename,
    ],
    [
      'a non-boolean sandbox_mode.enable',
      { ...MINIMAL, mail_settings: { sandbox_mode: { enable: 'yes' } } },
      'mail_settings.sandbox_mode.enable',
      'enable must be a boolean',
    ],
    [
      '1001 personalizations',
      { ...MINIMAL, personalizations: Array.from({ length: 1001 }, () => ({ to: recipients(1) })) },
      'personalizations',
      MAIL_MESSAGES.recipientLimit,
    ],
  ])('rejects %s on its SendGrid field path', (_case, body, path, message) => {
    // Act
    const issues = issuesOf(body);

    // Assert
    expect(issues).toContainEqual({ path, message });
  });

  it('is documented with its required fields in the OpenAPI document', () => {
    // Act
    const doc = openApiDocument() as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: object }>>;
      components: { schemas: Record<string, { required?: string[]; properties?: object }> };
    };

    // Assert
    const op = doc.paths['/v3/mail/send']?.post;
    expect(JSON.stringify(op?.requestBody)).toContain('#/components/schemas/SendMailRequest');
    expect(Object.keys(op?.responses ?? {})).toContain('202');
    const request = doc.components.schemas.SendMailRequest;
    expect(request?.required).toEqual(['personalizations', 'from']);
    expect(Object.keys(request?.properties ?? {})).toEqual(
      expect.arrayContaining(['personalizations', 'from', 'subject', 'content', 'mail_settings']),
    );
  });
});

describe('isValidEmail', () => {
  it.each([
    'a@example.com',
    'first.last+tag@sub.example.co.uk',
    "o'brien@example.com",
    'x@xn--80ak6aa92e.xn--p1ai',
  ])('accepts %s', (email) => {
    expect(isValidEmail(email)).toBe(true);
  });

  it.each([
    '',
    'plainaddress',
    '@example.com',
    'a@',
    'a@example',
    'a@@example.com',
    'a b@example.com',
    '.a@example.com',
    'a..b@example.com',
    'a.@example.com',
    'a@-example.com',
    'a@example.c',
    'Alex <a@example.com>',
    'a@example.com\r\nBcc: victim@example.com',
    `${'x'.repeat(65)}@example.com`,
    `a@${'x'.repeat(250)}.com`,
  ])('rejects %j', (email) => {
    expect(isValidEmail(email)).toBe(false);
  });
});

describe('sendMail (domain)', () => {
  it('hands a valid message to the mailer with a fresh 22-character message ID', async () => {
    // Arrange
    const mailer = new FakeMailer();
    const deps = makeDeps(mailer);

    // Act
    const first = unwrap(await sendMail(deps, caller, parse(MINIMAL)));
    const second = unwrap(await sendMail(deps, caller, parse(MINIMAL)));

    // Assert
    expect(first.sandbox).toBe(false);
    expect(first.messageId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(second.messageId).not.toBe(first.messageId);
    expect(mailer.sent).toEqual([
      {
        accountId: 'acct-1',
        keyId: caller.keyId,
        messageId: first.messageId,
        payload: MINIMAL,
        acceptedAt: NOW.toISOString(),
      },
      expect.objectContaining({ messageId: second.messageId }),
    ]);
  });

  it('validates but sends nothing in sandbox mode', async () => {
    // Arrange
    const mailer = new FakeMailer();
    const body = { ...MINIMAL, mail_settings: { sandbox_mode: { enable: true } } };

    // Act
    const sent = unwrap(await sendMail(makeDeps(mailer), caller, parse(body)));

    // Assert
    expect(sent.sandbox).toBe(true);
    expect(mailer.sent).toEqual([]);
  });

  it('still reports errors in sandbox mode', async () => {
    // Arrange
    const mailer = new FakeMailer();
    const { subject: _subject, ...body } = {
      ...MINIMAL,
      mail_settings: { sandbox_mode: { enable: true } },
    };

    // Act
    const error = failure(await sendMail(makeDeps(mailer), caller, parse(body)));

    // Assert
    expect(error.code).toBe('bad_request');
    expect(error.errors).toEqual([{ field: 'subject', message: MAIL_MESSAGES.subject }]);
  });

  it.each([
    ['no from', { from: undefined }, 'from.email', MAIL_MESSAGES.from],
    ['an invalid from', { from: { email: 'nope' } }, 'from.email', MAIL_MESSAGES.fromInvalid],
    [
      'an invalid personalization from',
      { personalizations: [{ to: recipients(1), from: { email: 'x@' } }] },
      'personalizations.0.from.email',
      MAIL_MESSAGES.fromInvalid,
    ],
    [
      'an invalid to',
      { personalizations: [{ to: [{ email: 'bob@localhost' }] }] },
      'personalizations.0.to.0.email',
      MAIL_MESSAGES.invalidAddress,
    ],
    [
      'an invalid cc',
      { personalizations: [{ to: recipients(1), cc: [{ email: 'a@b.io' }, { email: 'c' }] }] },
      'personalizations.0.cc.1.email',
      MAIL_MESSAGES.invalidAddress,
    ],
    [
      'an invalid reply_to',
      { reply_to: { email: 'reply' } },
      'reply_to.email',
      MAIL_MESSAGES.invalidAddress,
    ],
    [
      'an address twice in one personalization (ignoring case)',
      {
        personalizations: [
          { to: [{ email: 'dup@example.com' }], bcc: [{ email: 'Dup@Example.com' }] },
        ],
      },
      'personalizations.0.bcc.0.email',
      MAIL_MESSAGES.duplicate('Dup@Example.com'),
    ],
    ['no subject', { subject: undefined }, 'subject', MAIL_MESSAGES.subject],
    [
      'no subject and one personalization without one',
      {
        subject: undefined,
        personalizations: [{ to: recipients(1), subject: 'a' }, { to: recipients(1) }],
      },
      'subject',
      MAIL_MESSAGES.subject,
    ],
    ['no content', { content: undefined }, 'content', MAIL_MESSAGES.content],
    ['empty content', { content: [] }, 'content', MAIL_MESSAGES.content],
    [
      'both reply_to and reply_to_list',
      { reply_to: { email: 'a@example.com' }, reply_to_list: [{ email: 'b@example.com' }] },
      'reply_to_list',
      MAIL_MESSAGES.replyToBoth,
    ],
    [
      'send_at more than 72 hours ahead',
      { send_at: NOW_SECONDS + SEND_AT_HORIZON_SECONDS + 1 },
      'send_at',
      MAIL_MESSAGES.sendAtHorizon,
    ],
    [
      'a personalization send_at more than 72 hours ahead',
      { personalizations: [{ to: recipients(1), send_at: NOW_SECONDS + 73 * 3600 }] },
      'personalizations.0.send_at',
      MAIL_MESSAGES.sendAtHorizon,
    ],
    [
      `${MAX_RECIPIENTS + 1} recipients over personalizations`,
      {
        personalizations: [
          { to: recipients(600, 'a.example.com') },
          { to: recipients(1), cc: recipients(200, 'c.example.com') },
          { to: recipients(1, 'x.example.com'), bcc: recipients(199, 'b.example.com') },
        ],
      },
      'personalizations',
      MAIL_MESSAGES.recipientLimit,
    ],
  ])('refuses %s with 400 and sends nothing', async (_case, change, field, message) => {
    // Arrange
    const mailer = new FakeMailer();
    const payload = parse({ ...MINIMAL, ...change });

    // Act
    const error = failure(await sendMail(makeDeps(mailer), caller, payload));

    // Assert
    expect(error.code).toBe('bad_request');
    expect(error.errors).toEqual([{ field, message }]);
    expect(mailer.sent).toEqual([]);
  });

  it.each([
    [
      'a subject in every personalization',
      { subject: undefined, personalizations: [{ to: recipients(1), subject: 'x' }] },
    ],
    [
      'exactly 1000 recipients',
      { personalizations: [{ to: recipients(500), bcc: recipients(500, 'b.example.com') }] },
    ],
    [
      'the same address in two personalizations',
      { personalizations: [{ to: recipients(1) }, { to: recipients(1) }] },
    ],
    ['send_at exactly 72 hours ahead', { send_at: NOW_SECONDS + SEND_AT_HORIZON_SECONDS }],
    [
      'a template instead of subject and content',
      { subject: undefined, content: undefined, template_id: 'd-123' },
    ],
  ])('accepts %s', async (_case, change) => {
    // Arrange
    const mailer = new FakeMailer();

    // Act
    const result = await sendMail(makeDeps(mailer), caller, parse({ ...MINIMAL, ...change }));

    // Assert
    expect(result.ok).toBe(true);
    expect(mailer.sent).toHaveLength(1);
  });

  it('reports every failure of a request together, in SendGrid order', async () => {
    // Arrange
    const mailer = new FakeMailer();
    const payload = parse({ personalizations: [{ to: [{ email: 'bad' }] }] });

    // Act
    const error = failure(await sendMail(makeDeps(mailer), caller, payload));

    // Assert
    expect(error.errors).toEqual([
      { field: 'from.email', message: MAIL_MESSAGES.from },
      { field: 'personalizations.0.to.0.email', message: MAIL_MESSAGES.invalidAddress },
      { field: 'subject', message: MAIL_MESSAGES.subject },
      { field: 'content', message: MAIL_MESSAGES.content },
    ]);
  });

  it('refuses template_id with 400 when the mailer cannot use templates', async () => {
    // Arrange
    const mailer = new FakeMailer({ templates: false });
    const payload = parse({ ...MINIMAL, template_id: 'd-123' });

    // Act
    const error = failure(await sendMail(makeDeps(mailer), caller, payload));

    // Assert
    expect(error.code).toBe('bad_request');
    expect(error.errors).toEqual([
      { field: 'template_id', message: MAIL_MESSAGES.templateUnsupported },
    ]);
    expect(mailer.sent).toEqual([]);
  });

  it.each([
    ['the message from', MINIMAL, [], 'from'],
    [
      'a personalization from',
      {
        ...MINIMAL,
        personalizations: [{ to: recipients(1), from: { email: 'other@example.com' } }],
      },
      ['sender@example.com'],
      'personalizations.0.from',
    ],
    [
      'the from, even in sandbox mode',
      { ...MINIMAL, mail_settings: { sandbox_mode: { enable: true } } },
      [],
      'from',
    ],
  ])('refuses an unverified sender in %s with 403', async (_case, body, senders, field) => {
    // Arrange
    const mailer = new FakeMailer({ senders });

    // Act
    const error = failure(await sendMail(makeDeps(mailer), caller, parse(body)));

    // Assert
    expect(error.code).toBe('forbidden');
    expect(error.errors).toEqual([{ field, message: MAIL_MESSAGES.unverifiedSender }]);
    expect(mailer.sent).toEqual([]);
  });

  it("propagates the mailer's failure", async () => {
    // Arrange
    const mailer = new FakeMailer();
    mailer.send = async () => {
      throw new ServiceUnavailableError();
    };

    // Act
    const sending = sendMail(makeDeps(mailer), caller, parse(MINIMAL));

    // Assert
    await expect(sending).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

describe('SesMailer', () => {
  const ses = mockClient(SESv2Client);

  beforeEach(() => {
    ses.reset();
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-id' });
  });

  afterAll(() => {
    ses.restore();
  });

  const outgoing = (payload: unknown): OutgoingMail => ({
    accountId: 'acct-1',
    keyId: caller.keyId,
    messageId: 'm'.repeat(22),
    payload: parse(payload),
    acceptedAt: NOW.toISOString(),
  });

  it('sends one Simple SendEmail per personalization with its recipients and subject', async () => {
    // Arrange
    const mailer = new SesMailer({ identity: 'example.com', client: new SESv2Client({}) });
    const mail = outgoing({
      personalizations: [
        {
          to: [{ email: 'alex@example.com', name: 'Alex' }],
          cc: [{ email: 'charlie@example.com' }],
          bcc: [{ email: 'dana@example.com' }],
          substitutions: { '-name-': 'Alex' },
        },
        {
          to: [{ email: 'ira@example.com' }],
          from: { email: 'sales@example.com', name: 'Sales "Team"' },
          subject: 'Just for Ira',
        },
      ],
      from: { email: 'orders@example.com', name: 'Example Orders' },
      reply_to: { email: 'service@example.com' },
      subject: 'Hello -name-',
      content: [
        { type: 'text/plain', value: 'Hi -name-' },
        { type: 'text/html', value: '<p>Hi -name-</p>' },
      ],
      attachments: [
        { content: 'aGVsbG8=', filename: 'hello.txt', type: 'text/plain' },
        { content: 'aGk=', filename: 'logo.png', disposition: 'inline', content_id: 'logo' },
      ],
    });

    // Act
    await mailer.send(mail);

    // Assert
    const inputs = ses.commandCalls(SendEmailCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      {
        FromEmailAddress: '"Example Orders" <orders@example.com>',
        Destination: {
          ToAddresses: ['"Alex" <alex@example.com>'],
          CcAddresses: ['charlie@example.com'],
          BccAddresses: ['dana@example.com'],
        },
        ReplyToAddresses: ['service@example.com'],
        Content: {
          Simple: {
            Subject: { Data: 'Hello Alex', Charset: 'UTF-8' },
            Body: {
              Text: { Data: 'Hi Alex', Charset: 'UTF-8' },
              Html: { Data: '<p>Hi Alex</p>', Charset: 'UTF-8' },
            },
            Attachments: [
              {
                RawContent: Buffer.from('hello'),
                FileName: 'hello.txt',
                ContentType: 'text/plain',
                ContentDisposition: 'ATTACHMENT',
                ContentId: undefined,
              },
              {
                RawContent: Buffer.from('hi'),
                FileName: 'logo.png',
                ContentType: undefined,
                ContentDisposition: 'INLINE',
                ContentId: 'logo',
              },
            ],
          },
        },
      },
      expect.objectContaining({
        FromEmailAddress: '"Sales \\"Team\\"" <sales@example.com>',
        Destination: { ToAddresses: ['ira@example.com'] },
        Content: expect.objectContaining({
          Simple: expect.objectContaining({
            Subject: { Data: 'Just for Ira', Charset: 'UTF-8' },
            Body: {
              Text: { Data: 'Hi -name-', Charset: 'UTF-8' },
              Html: { Data: '<p>Hi -name-</p>', Charset: 'UTF-8' },
            },
          }),
        }),
      }),
    ]);
  });

  it('sends the one-pass rendering of the substitutions', async () => {
    // Arrange
    const mailer = new SesMailer({ identity: 'example.com', client: new SESv2Client({}) });
    const mail = outgoing({
      ...MINIMAL,
      subject: '-a- -b-',
      content: [{ type: 'text/plain', value: '-ab -a-' }],
      personalizations: [
        { to: recipients(1), substitutions: { '-a-': '-b-', '-b-': '-a-', '-ab': 'AB' } },
      ],
    });

    // Act
    await mailer.send(mail);

    // Assert
    const simple = ses.commandCalls(SendEmailCommand)[0]?.args[0].input.Content?.Simple;
    expect(simple?.Subject?.Data).toBe('-b- -a-');
    expect(simple?.Body?.Text?.Data).toBe('AB -b-');
  });

  it('uses reply_to_list and omits empty cc, bcc and attachments', async () => {
    // Arrange
    const mailer = new SesMailer({ identity: undefined, client: new SESv2Client({}) });

    // Act
    await mailer.send(
      outgoing({
        ...MINIMAL,
        reply_to_list: [{ email: 'a@example.com' }, { email: 'b@example.com' }],
      }),
    );

    // Assert
    const input = ses.commandCalls(SendEmailCommand)[0]?.args[0].input;
    expect(input?.ReplyToAddresses).toEqual(['a@example.com', 'b@example.com']);
    expect(input?.Destination).toEqual({ ToAddresses: ['recipient@example.com'] });
    expect(input?.Content?.Simple).toEqual({
      Subject: { Data: 'Hello, World!', Charset: 'UTF-8' },
      Body: { Text: { Data: 'Howdy!', Charset: 'UTF-8' } },
    });
  });

  it('encodes names that are not printable ASCII, so none can inject a header', () => {
    // Act
    const accented = formatAddress({ email: 'a@example.com', name: 'Zoë' });
    const injected = formatAddress({
      email: 'a@example.com',
      name: 'x\r\nBcc: victim@example.com',
    });
    const long = formatAddress({ email: 'a@example.com', name: 'é'.repeat(40) });

    // Assert
    expect(accented).toBe(`=?UTF-8?B?${Buffer.from('Zoë').toString('base64')}?= <a@example.com>`);
    expect(injected).not.toMatch(/[\r\n]/);
    expect(injected).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= <a@example\.com>$/);
    const words = long.replace(' <a@example.com>', '').split(' ');
    expect(words.length).toBeGreaterThan(1);
    for (const word of words) expect(word.length).toBeLessThanOrEqual(75);
    const decoded = words
      .map((w) => Buffer.from(w.slice('=?UTF-8?B?'.length, -2), 'base64').toString('utf8'))
      .join('');
    expect(decoded).toBe('é'.repeat(40));
  });

  it.each([
    [undefined, 'anyone@anywhere.org', false],
    [undefined, 'noreply@example.com', false],
    ['noreply@example.com', 'noreply@example.com', true],
    ['noreply@example.com', 'NoReply@Example.COM', true],
    ['noreply@example.com', 'other@example.com', false],
    ['example.com', 'anyone@example.com', true],
    ['Example.com', 'anyone@EXAMPLE.com', true],
    ['example.com', 'anyone@mail.example.com', false],
    ['example.com', 'anyone@example.com.evil.org', false],
    ['example.com', 'anyone@notexample.com', false],
  ])('with identity %s, canSendFrom(%s) is %s', (identity, address, expected) => {
    // Arrange
    const mailer = new SesMailer({ identity });

    // Act / Assert
    expect(mailer.canSendFrom(address)).toBe(expected);
  });

  it('without an identity refuses every sender with 403 and calls SES for nothing', async () => {
    // Arrange: a deployment without KEYGATE_SES_IDENTITY (its role holds no SES permission)
    const mailer = new SesMailer({ identity: undefined, client: new SESv2Client({}) });

    // Act
    const error = failure(await sendMail(makeDeps(mailer), caller, parse(MINIMAL)));

    // Assert
    expect(error.code).toBe('forbidden');
    expect(error.errors).toEqual([{ field: 'from', message: MAIL_MESSAGES.unverifiedSender }]);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('cannot use templates and refuses to send one', async () => {
    // Arrange
    const mailer = new SesMailer({ identity: undefined, client: new SESv2Client({}) });

    // Act
    const sending = mailer.send(outgoing({ ...MINIMAL, template_id: 'd-123' }));

    // Assert
    expect(mailer.canUseTemplate('d-123')).toBe(false);
    await expect(sending).rejects.toThrow(/template_id/);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('creates its client on the first send, once', async () => {
    // Arrange
    const factory = vi.fn(() => new SESv2Client({}));
    const mailer = new SesMailer({ identity: 'example.com', client: factory });
    mailer.canSendFrom('a@example.com');
    mailer.canUseTemplate('d-1');
    const before = factory.mock.calls.length;

    // Act
    await mailer.send(outgoing(MINIMAL));
    await mailer.send(outgoing(MINIMAL));

    // Assert
    expect(before).toBe(0);
    expect(factory).toHaveBeenCalledTimes(1);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2);
  });

  it('builds its own SES client when none is given', async () => {
    // Arrange
    const mailer = new SesMailer({ identity: undefined });

    // Act
    await mailer.send(outgoing(MINIMAL));

    // Assert
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
  });

  it('turns SES throttling into a retryable 503 and lets other SES errors through', async () => {
    // Arrange
    const throttled = Object.assign(new Error('Maximum sending rate exceeded.'), {
      name: 'TooManyRequestsException',
      $fault: 'client',
    });
    const rejected = Object.assign(new Error('Email address is not verified.'), {
      name: 'MessageRejected',
      $fault: 'client',
    });
    const mailer = new SesMailer({ identity: undefined, client: new SESv2Client({}) });

    ses.on(SendEmailCommand).rejectsOnce(throttled).rejectsOnce(rejected);

    // Act
    const first = await mailer.send(outgoing(MINIMAL)).catch((error: unknown) => error);
    const second = await mailer.send(outgoing(MINIMAL)).catch((error: unknown) => error);

    // Assert
    expect(first).toBeInstanceOf(ServiceUnavailableError);
    expect((first as ServiceUnavailableError).code).toBe('unavailable');
    expect(second).toBe(rejected);
  });

  it.each([
    ['AccessDeniedException', 'SES API v2'],
    ['AccessDenied', 'SES API v1'],
  ])(
    "answers SES denying the role (%s, %s: the sandbox checks recipients too) with a 403 that says what to do, and logs SES's message",
    async (name) => {
      // Arrange: what SES answers in the sandbox for a recipient the role may not send to
      const denied = Object.assign(
        new Error(
          'User: arn:aws:sts::123456789012:assumed-role/mail/fn is not authorized to perform: ses:SendEmail on resource: arn:aws:ses:us-east-1:123456789012:identity/friend@example.org',
        ),
        { name, $fault: 'client', $metadata: { httpStatusCode: 403 } },
      );
      const warn = vi.fn();
      const mailer = new SesMailer({
        identity: 'example.com',
        client: new SESv2Client({}),
        logger: { debug: vi.fn(), info: vi.fn(), warn, error: vi.fn() },
      });
      ses.on(SendEmailCommand).rejectsOnce(denied);

      // Act
      const error = await mailer.send(outgoing(MINIMAL)).catch((e: unknown) => e);

      // Assert
      expect(error).toBeInstanceOf(ForbiddenError);
      expect((error as ForbiddenError).code).toBe('forbidden');
      expect((error as ForbiddenError).errors).toEqual([
        { field: null, message: SES_ACCESS_DENIED_MESSAGE },
      ]);
      expect(SES_ACCESS_DENIED_MESSAGE).toContain('keygate:sesSandboxRecipients');
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[1]).toEqual({ error: denied });
    },
  );

  it('turns a hung SES (the request timeout of its client) into a retryable 503', async () => {
    // Arrange: what @smithy/node-http-handler throws when `requestTimeout` passes
    const timedOut = Object.assign(new Error('a request has exceeded the configured timeout'), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    });
    const mailer = new SesMailer({ identity: undefined, client: new SESv2Client({}) });
    ses.on(SendEmailCommand).rejectsOnce(timedOut);

    // Act
    const error = await mailer.send(outgoing(MINIMAL)).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(ServiceUnavailableError);
  });
});

describe('substitutions', () => {
  /** An independent reference: one `u`-flag alternation of the escaped keys, longest first. */
  function reference(text: string, map: Record<string, string>): string {
    const keys = Object.keys(map).sort((a, b) => b.length - a.length);
    if (keys.length === 0) return text;
    const escaped = keys.map((k) => k.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
    return text.replace(new RegExp(escaped.join('|'), 'gu'), (key) => map[key] ?? key);
  }

  it.each([
    ['keys that swap', { '-a-': '-b-', '-b-': '-a-' }, '-a- and -b-', '-b- and -a-'],
    ['a chain', { '-a-': '-b-', '-b-': '-c-', '-c-': 'end' }, '-a-', '-b-'],
    ['a value holding keys', { '-a-': '[-a-]', '[': '(' }, '[ -a- -a-', '( [-a-] [-a-]'],
    [
      'a value that completes a key with the text after it',
      { '-a': '-', '-b-': 'X' },
      '-ab-',
      '-b-',
    ],
  ])('makes one pass and never rescans replaced text: %s', (_case, map, text, expected) => {
    // Act
    const rendered = substitute(text, map);

    // Assert
    expect(rendered).toBe(expected);
  });

  it('takes the longest key where keys overlap, whatever their order', () => {
    // Act
    const shorterFirst = substitute('-ab -a -abc', { '-a': 'short', '-ab': 'long' });
    const longerFirst = substitute('-ab -a -abc', { '-ab': 'long', '-a': 'short' });

    // Assert
    expect(shorterFirst).toBe('long short longc');
    expect(longerFirst).toBe('long short longc');
  });

  it('takes the leftmost match first, then goes on after it', () => {
    // Act
    const rendered = substitute('abcd', { bcd: 'X', ab: 'Y', cd: 'Z' });

    // Assert
    expect(rendered).toBe('YZ');
  });

  it('never matches half of a surrogate pair', () => {
    // Arrange: the emoji is the pair \ud83d\ude00
    const map = { '\ud83d': 'high', '\ude00': 'low', '-': 'dash' };

    // Act
    const rendered = substitute('😀-\ud83d!', map);

    // Assert
    expect(rendered).toBe('😀dashhigh!');
  });

  it('agrees with a one-pass, longest-first regular expression on any text and keys', () => {
    // Arrange: a small alphabet, so that keys overlap, repeat and split pairs often
    const unit = fc.constantFrom('a', 'b', '-', 'é', '😀', '\ud83d', '\ude00');
    const key = fc.string({ unit, minLength: 1, maxLength: 4 });
    const map = fc.dictionary(key, fc.string({ unit, maxLength: 4 }), { maxKeys: 6 });

    // Act / Assert
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), map, (text, substitutions) => {
        expect(substitute(text, substitutions)).toBe(reference(text, substitutions));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses an empty key', () => {
    // Act
    const problems = substitutionsProblems({ '': 'x', '-name-': 'Alex' });

    // Assert
    expect(problems).toEqual(['empty_key']);
    expect(() => substitute('text', { '': 'x' })).toThrow(/empty/);
  });

  it('accepts exactly 10,000 bytes of keys and values, and refuses 10,001', () => {
    // Arrange
    const exactly = { '-a-': 'x'.repeat(5000), '-b-': 'y'.repeat(MAX_SUBSTITUTIONS_BYTES - 5006) };
    const over = { ...exactly, '-': '' };

    // Act / Assert
    expect(MAX_SUBSTITUTIONS_BYTES).toBe(10_000);
    expect(substitutionsBytes(exactly)).toBe(10_000);
    expect(substitutionsProblems(exactly)).toEqual([]);
    expect(substitutionsBytes(over)).toBe(10_001);
    expect(substitutionsProblems(over)).toEqual(['too_large']);
  });

  it('counts bytes of UTF-8, not characters', () => {
    // Arrange: é is 2 bytes, 😀 is 4 (two UTF-16 code units)
    const fits = { '-n-': 'é'.repeat(4996), '😀': 'x' };
    const over = { '-n-': 'é'.repeat(4996), '😀': 'xx' };

    // Act / Assert
    expect(substitutionsBytes(fits)).toBe(10_000);
    expect(substitutionsProblems(fits)).toEqual([]);
    expect(substitutionsBytes(over)).toBe(10_001);
    expect(substitutionsProblems(over)).toEqual(['too_large']);
    const unit = fc.constantFrom('a', '\u07ff', '\u0800', '€', '😀', '\ud83d', '\ude00');
    fc.assert(
      fc.property(fc.string({ unit }), (text) => {
        expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
      }),
    );
  });

  it("renders a personalization's subject and every content block", () => {
    // Arrange
    const payload = parse({
      ...MINIMAL,
      subject: 'Hello -name-',
      content: [
        { type: 'text/plain', value: 'Hi -name-' },
        { type: 'text/html', value: '<p>Hi -name-</p>' },
      ],
      personalizations: [
        { to: recipients(1), substitutions: { '-name-': 'Alex', Alex: 'Bob' } },
        { to: recipients(1), subject: 'Only -name-' },
      ],
    });

    // Act
    const rendered = payload.personalizations.map((p) => renderMessage(payload, p));

    // Assert
    expect(rendered).toEqual([
      {
        subject: 'Hello Alex',
        content: [
          { type: 'text/plain', value: 'Hi Alex' },
          { type: 'text/html', value: '<p>Hi Alex</p>' },
        ],
      },
      {
        subject: 'Only -name-',
        content: [
          { type: 'text/plain', value: 'Hi -name-' },
          { type: 'text/html', value: '<p>Hi -name-</p>' },
        ],
      },
    ]);
  });

  it('measures the rendered message exactly, in bytes of UTF-8, without rendering it', () => {
    // Arrange
    const payload = parse({
      ...MINIMAL,
      subject: 'Grüße -n-',
      content: [
        { type: 'text/plain', value: '-n- 😀 -n-' },
        { type: 'text/html', value: '<b>-n-</b>' },
      ],
      personalizations: [
        { to: recipients(1), substitutions: { '-n-': 'Zoë' } },
        { to: recipients(1) },
      ],
    });
    const exact = payload.personalizations
      .map((p) => renderMessage(payload, p))
      .flatMap((r) => [r.subject ?? '', ...r.content.map((c) => c.value)])
      .reduce((n, text) => n + Buffer.byteLength(text, 'utf8'), 0);

    // Act
    const measured = renderedBytes(payload, MAX_RENDERED_BYTES);

    // Assert
    expect(measured).toBe(exact);
  });

  it('finds a rendering beyond the cap without producing it', () => {
    // Arrange: a 1-byte key with the largest value over 1 MB of text: 10 GB, more than a string
    // can hold, so measuring must not build it
    const payload = parse({
      ...MINIMAL,
      content: [{ type: 'text/plain', value: 'a'.repeat(1_000_000) }],
      personalizations: [{ to: recipients(1), substitutions: { a: 'x'.repeat(9999) } }],
    });

    // Act
    const measured = renderedBytes(payload, MAX_RENDERED_BYTES);

    // Assert
    expect(measured).toBeGreaterThan(MAX_RENDERED_BYTES);
  });

  it.each([
    [
      'an empty key',
      [{ to: recipients(1) }, { to: recipients(1, 'b.example.com'), substitutions: { '': 'x' } }],
      'personalizations.1.substitutions',
      MAIL_MESSAGES.substitutionKey,
    ],
    [
      'substitutions over 10,000 bytes',
      [{ to: recipients(1), substitutions: { '-a-': 'x'.repeat(9998) } }],
      'personalizations.0.substitutions',
      MAIL_MESSAGES.substitutionsSize,
    ],
    [
      'a rendering beyond the cap',
      [{ to: recipients(1), substitutions: { '-': 'x'.repeat(9999) } }],
      'personalizations',
      MAIL_MESSAGES.renderedSize,
    ],
  ])('refuses %s with 400 and sends nothing', async (_case, personalizations, field, message) => {
    // Arrange
    const mailer = new FakeMailer();
    const payload = parse({
      ...MINIMAL,
      personalizations,
      content: [{ type: 'text/plain', value: '-'.repeat(5000) }],
    });

    // Act
    const error = failure(await sendMail(makeDeps(mailer), caller, payload));

    // Assert
    expect(error.code).toBe('bad_request');
    expect(error.errors).toEqual([{ field, message }]);
    expect(mailer.sent).toEqual([]);
  });
});
