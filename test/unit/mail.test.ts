import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryKeyRepository } from '../../shared/adapters/memory/keys-repository.js';
import { formatAddress, SesMailer } from '../../shared/adapters/ses/mailer.js';
import type { Caller } from '../../shared/domain/api-keys.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import {
  isValidEmail,
  MAIL_MESSAGES,
  MAX_RECIPIENTS,
  SEND_AT_HORIZON_SECONDS,
  sendMail,
} from '../../shared/domain/mail.js';
import type { Deps, Mailer, OutgoingMail } from '../../shared/domain/ports.js';
import { openApiDocument } from '../../shared/openapi.js';
import { type MailPayload, SendMailBody } from '../../shared/schemas/mail.js';
import { failure, unwrap } from './support.js';

// The SDK warns about Node 20 on every client; the tests do not need to hear it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

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
    config: { keyPrefix: 'SG', defaultKeyLimit: 100 },
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
    expect(error.status).toBe(400);
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
    expect(error.status).toBe(400);
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
    expect(error.status).toBe(400);
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
    expect(error.status).toBe(403);
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
    expect(error.status).toBe(403);
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
    expect((first as ServiceUnavailableError).status).toBe(503);
    expect(second).toBe(rejected);
  });
});
