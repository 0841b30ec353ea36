import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { OutboxMailer } from '../../shared/adapters/local/outbox-mailer.js';
import type { Caller } from '../../shared/domain/api-keys.js';
import { MAIL_MESSAGES } from '../../shared/domain/mail.js';
import type { OutgoingMail } from '../../shared/domain/ports.js';
import { CreatedApiKey, ErrorEnvelope } from '../../shared/schemas/api-keys.js';
import { createGateway } from '../helpers/gateway.js';
import { callerFor, errorsOf, invoke, newAccount } from '../helpers/harness.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { bodyAs } from '../helpers/typed-body.js';

const tempDir = tempDirs();

/** SendGrid's documented minimal request ("Testing an API key"). */
const MINIMAL = {
  personalizations: [{ to: [{ email: 'recipient@example.com' }] }],
  from: { email: 'sender@example.com' },
  subject: 'Hello, World!',
  content: [{ type: 'text/plain', value: 'Howdy!' }],
};

const outboxDir = (): string => {
  const dir = process.env.KEYGATE_OUTBOX_DIR;
  if (!dir) throw new Error('KEYGATE_OUTBOX_DIR is not set');
  return dir;
};

/** The outbox's messages from one account (tests share a worker's outbox, never an account). */
async function outboxOf(accountId: string): Promise<OutgoingMail[]> {
  const all = await new OutboxMailer(outboxDir()).list();
  return all.filter((m) => m.accountId === accountId);
}

async function keyWithScopes(owner: Caller, scopes: string[]): Promise<Caller> {
  const created = await invoke(
    'createApiKey',
    { caller: owner, body: { name: 'k', scopes } },
    CreatedApiKey,
  );
  expect(created.status).toBe(201);
  return callerFor(created.body.api_key);
}

const recipients = (n: number, domain = 'example.com') =>
  Array.from({ length: n }, (_, i) => ({ email: `r${i}@${domain}` }));

describe('POST /v3/mail/send', () => {
  it("accepts SendGrid's minimal request: 202, empty body, X-Message-Id, in the outbox", async () => {
    // Arrange
    const { owner, ownerKey } = await newAccount();

    // Act
    const res = await invoke('sendMail', { caller: owner, body: MINIMAL });

    // Assert
    expect(res.status).toBe(202);
    expect(res.raw.body).toBe('');
    expect(res.headers['content-type']).toBeUndefined();
    const messageId = res.headers['x-message-id'];
    expect(messageId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const outbox = await outboxOf(owner.accountId);
    expect(outbox).toEqual([
      {
        accountId: owner.accountId,
        keyId: owner.keyId,
        messageId,
        payload: MINIMAL,
        acceptedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        rendered: [{ subject: MINIMAL.subject, content: MINIMAL.content }],
      },
    ]);
    const files = readdirSync(outboxDir()).filter((f) => f.endsWith(`-${messageId}.json`));
    expect(files).toHaveLength(1);
    const text = readFileSync(join(outboxDir(), files[0] ?? ''), 'utf8');
    expect(text).not.toContain(ownerKey.split('.')[2]);
  });

  it('gives every accepted message its own ID', async () => {
    // Arrange
    const { owner } = await newAccount();

    // Act
    const first = await invoke('sendMail', { caller: owner, body: MINIMAL });
    const second = await invoke('sendMail', { caller: owner, body: MINIMAL });

    // Assert
    expect(first.headers['x-message-id']).not.toBe(second.headers['x-message-id']);
    const ids = (await outboxOf(owner.accountId)).map((m) => m.messageId);
    expect(ids.sort()).toEqual(
      [first.headers['x-message-id'], second.headers['x-message-id']].sort(),
    );
  });

  it('answers 200 with an empty body in sandbox mode and writes nothing', async () => {
    // Arrange
    const { owner } = await newAccount();

    // Act
    const res = await invoke('sendMail', {
      caller: owner,
      body: { ...MINIMAL, mail_settings: { sandbox_mode: { enable: true } } },
    });

    // Assert
    expect(res.status).toBe(200);
    expect(res.raw.body).toBe('');
    expect(res.headers['x-message-id']).toBeUndefined();
    expect(await outboxOf(owner.accountId)).toEqual([]);
  });

  it('drops unknown fields, so nothing the server owns can be set', async () => {
    // Arrange
    const { owner } = await newAccount();
    const other = await newAccount();

    // Act
    const res = await invoke('sendMail', {
      caller: owner,
      body: { ...MINIMAL, accountId: other.accountId, keyId: 'x', messageId: 'mine', extra: 1 },
    });

    // Assert
    expect(res.status).toBe(202);
    const [mail] = await outboxOf(owner.accountId);
    expect(mail?.payload).toEqual(MINIMAL);
    expect(mail?.messageId).toBe(res.headers['x-message-id']);
    expect(await outboxOf(other.accountId)).toEqual([]);
  });

  it.each([
    [
      'no personalizations',
      { personalizations: undefined },
      'personalizations',
      MAIL_MESSAGES.personalizations,
    ],
    [
      'empty personalizations',
      { personalizations: [] },
      'personalizations',
      MAIL_MESSAGES.personalizations,
    ],
    [
      'a personalization without to',
      { personalizations: [{ cc: [{ email: 'cc@example.com' }] }] },
      'personalizations.0.to',
      MAIL_MESSAGES.to,
    ],
    [
      'an invalid recipient',
      { personalizations: [{ to: [{ email: 'recipient@' }] }] },
      'personalizations.0.to.0.email',
      MAIL_MESSAGES.invalidAddress,
    ],
    [
      'a recipient email that is not a string',
      { personalizations: [{ to: [{ email: 42 }] }] },
      'personalizations.0.to.0.email',
      MAIL_MESSAGES.invalidAddress,
    ],
    ['no from', { from: undefined }, 'from.email', MAIL_MESSAGES.from],
    ['an invalid from', { from: { email: 'sender' } }, 'from.email', MAIL_MESSAGES.fromInvalid],
    ['no subject', { subject: undefined }, 'subject', MAIL_MESSAGES.subject],
    ['no content', { content: undefined }, 'content', MAIL_MESSAGES.content],
    [
      'an empty content value',
      { content: [{ type: 'text/plain', value: '' }] },
      'content.0.value',
      MAIL_MESSAGES.contentValue,
    ],
    [
      'an address twice in one personalization',
      {
        personalizations: [
          { to: [{ email: 'twice@example.com' }], cc: [{ email: 'twice@example.com' }] },
        ],
      },
      'personalizations.0.cc.0.email',
      MAIL_MESSAGES.duplicate('twice@example.com'),
    ],
    [
      '11 categories',
      { categories: Array.from({ length: 11 }, (_, i) => `c${i}`) },
      'categories',
      MAIL_MESSAGES.categories,
    ],
    [
      'reply_to with reply_to_list',
      { reply_to: { email: 'a@example.com' }, reply_to_list: [{ email: 'b@example.com' }] },
      'reply_to_list',
      MAIL_MESSAGES.replyToBoth,
    ],
    [
      'send_at a week ahead',
      { send_at: Math.floor(Date.now() / 1000) + 7 * 24 * 3600 },
      'send_at',
      MAIL_MESSAGES.sendAtHorizon,
    ],
    [
      '1001 recipients in one personalization',
      { personalizations: [{ to: recipients(600), cc: recipients(401, 'cc.example.com') }] },
      'personalizations',
      MAIL_MESSAGES.recipientLimit,
    ],
    [
      '1001 recipients over personalizations',
      {
        personalizations: [{ to: recipients(1000) }, { to: [{ email: 'one-more@example.com' }] }],
      },
      'personalizations',
      MAIL_MESSAGES.recipientLimit,
    ],
    [
      '1001 personalizations',
      { personalizations: Array.from({ length: 1001 }, () => ({ to: recipients(1) })) },
      'personalizations',
      MAIL_MESSAGES.recipientLimit,
    ],
  ])(
    'refuses %s with 400 on its field and writes nothing',
    async (_case, change, field, message) => {
      // Arrange
      const { owner } = await newAccount();

      // Act
      const res = await invoke('sendMail', { caller: owner, body: { ...MINIMAL, ...change } });

      // Assert
      expect(res.status).toBe(400);
      expect(errorsOf(res)).toEqual([{ field, message }]);
      expect(await outboxOf(owner.accountId)).toEqual([]);
    },
  );

  it('reports the failures of one request together', async () => {
    // Arrange
    const { owner } = await newAccount();

    // Act
    const res = await invoke('sendMail', {
      caller: owner,
      body: { personalizations: [{ to: [{ email: 'recipient@example.com' }] }] },
    });

    // Assert
    expect(res.status).toBe(400);
    expect(errorsOf(res)).toEqual([
      { field: 'from.email', message: MAIL_MESSAGES.from },
      { field: 'subject', message: MAIL_MESSAGES.subject },
      { field: 'content', message: MAIL_MESSAGES.content },
    ]);
  });

  it('accepts exactly 1000 recipients', async () => {
    // Arrange
    const { owner } = await newAccount();
    const body = {
      ...MINIMAL,
      personalizations: [
        { to: recipients(500), cc: recipients(250, 'cc.example.com') },
        { to: recipients(250, 'other.example.com') },
      ],
    };

    // Act
    const res = await invoke('sendMail', { caller: owner, body });

    // Assert
    expect(res.status).toBe(202);
    const [mail] = await outboxOf(owner.accountId);
    expect(mail?.payload.personalizations.map((p) => p.to.length)).toEqual([500, 250]);
  });

  it('accepts bodies far larger than the API-key limit, and refuses over 5 MiB with 413', async () => {
    // Arrange
    const { owner } = await newAccount();
    const big = { ...MINIMAL, content: [{ type: 'text/plain', value: 'x'.repeat(1024 * 1024) }] };
    const tooBig = {
      ...MINIMAL,
      content: [{ type: 'text/plain', value: 'x'.repeat(5 * 1024 * 1024) }],
    };

    // Act
    const accepted = await invoke('sendMail', { caller: owner, body: big });
    const refused = await invoke('sendMail', { caller: owner, body: tooBig });

    // Assert
    expect(accepted.status).toBe(202);
    expect(refused.status).toBe(413);
    const outbox = await outboxOf(owner.accountId);
    expect(outbox.map((m) => m.messageId)).toEqual([accepted.headers['x-message-id']]);
  });

  it('works for a restricted key holding only mail.send', async () => {
    // Arrange
    const { owner } = await newAccount();
    const sender = await keyWithScopes(owner, ['mail.send']);

    // Act
    const res = await invoke('sendMail', { caller: sender, body: MINIMAL });

    // Assert
    expect(res.status).toBe(202);
    const [mail] = await outboxOf(owner.accountId);
    expect(mail?.keyId).toBe(sender.keyId);
  });

  it.each([
    ['a general key without mail.send', ['alerts.read']],
    ['a billing key', ['billing.read']],
  ])('refuses %s with 403 and writes nothing', async (_case, scopes) => {
    // Arrange
    const { owner } = await newAccount();
    const caller = await keyWithScopes(owner, scopes);

    // Act
    const res = await invoke('sendMail', { caller, body: MINIMAL });

    // Assert
    expect(res.status).toBe(403);
    expect(await outboxOf(owner.accountId)).toEqual([]);
  });
});

describe('OutboxMailer', () => {
  const mail = (messageId: string, acceptedAt: string): OutgoingMail => ({
    accountId: 'acct',
    keyId: 'key',
    messageId,
    payload: MINIMAL,
    acceptedAt,
  });

  it('creates its directory and writes one file per message, named by time and ID', async () => {
    // Arrange
    const dir = join(tempDir('keygate-outbox-test-'), 'nested', 'outbox');
    const outbox = new OutboxMailer(dir);

    // Act
    await outbox.send(mail('AAAAAAAAAAAAAAAAAAAAAA', '2026-03-01T12:00:00.000Z'));

    // Assert
    expect(readdirSync(dir)).toEqual(['2026-03-01T12-00-00.000Z-AAAAAAAAAAAAAAAAAAAAAA.json']);
  });

  it('lists messages oldest first, whatever the order they were written in', async () => {
    // Arrange
    const outbox = new OutboxMailer(tempDir('keygate-outbox-test-'));
    const later = mail('BBBBBBBBBBBBBBBBBBBBBB', '2026-03-01T12:00:01.000Z');
    const earlier = mail('CCCCCCCCCCCCCCCCCCCCCC', '2026-03-01T12:00:00.500Z');
    await outbox.send(later);
    await outbox.send(earlier);

    // Act
    const listed = await outbox.list();

    // Assert
    const rendered = [{ subject: MINIMAL.subject, content: MINIMAL.content }];
    expect(listed).toEqual([
      { ...earlier, rendered },
      { ...later, rendered },
    ]);
  });

  it('stores the rendered subject and content of each personalization beside the payload', async () => {
    // Arrange
    const dir = tempDir('keygate-outbox-test-');
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const outbox = new OutboxMailer(dir);
    const payload = {
      ...MINIMAL,
      subject: 'Hi -name-',
      content: [
        { type: 'text/plain', value: '-name-, -ab' },
        { type: 'text/html', value: '<p>-name-</p>' },
      ],
      personalizations: [
        { to: recipients(1), substitutions: { '-name-': '-a', '-a': 'A', '-ab': 'AB' } },
        { to: recipients(1, 'other.example.com'), subject: 'Just -name-' },
      ],
    };

    // Act
    await outbox.send({ ...mail('DDDDDDDDDDDDDDDDDDDDDD', '2026-03-01T12:00:00.000Z'), payload });

    // Assert
    const [name] = readdirSync(dir);
    const stored = JSON.parse(readFileSync(join(dir, name ?? ''), 'utf8')) as unknown;
    expect(stored).toEqual({
      accountId: 'acct',
      keyId: 'key',
      messageId: 'DDDDDDDDDDDDDDDDDDDDDD',
      payload,
      acceptedAt: '2026-03-01T12:00:00.000Z',
      rendered: [
        {
          subject: 'Hi -a',
          content: [
            { type: 'text/plain', value: '-a, AB' },
            { type: 'text/html', value: '<p>-a</p>' },
          ],
        },
        { subject: 'Just -name-', content: payload.content },
      ],
    });
  });

  it('lists nothing for a directory that does not exist yet', async () => {
    // Arrange
    const outbox = new OutboxMailer(join(tempDir('keygate-outbox-test-'), 'missing'));

    // Act
    const listed = await outbox.list();

    // Assert
    expect(listed).toEqual([]);
  });
});

describe('POST /v3/mail/send substitutions, through the gateway', () => {
  const { call } = createGateway();

  const send = (key: string, body: unknown) => call('POST', '/v3/mail/send', { key, body });
  const errors = (body: unknown) => bodyAs(ErrorEnvelope, body, 'mail send').errors;

  it('refuses an empty key (2 KB that used to render as 400 KB) with 400, writing nothing', async () => {
    // Arrange
    const { owner, ownerKey } = await newAccount();
    const body = {
      ...MINIMAL,
      personalizations: [{ to: recipients(1), substitutions: { '': 'x'.repeat(2000) } }],
    };
    expect(JSON.stringify(body).length).toBeLessThan(2300);

    // Act
    const res = await send(ownerKey, body);

    // Assert
    expect(res.status).toBe(400);
    expect(errors(res.body)).toEqual([
      { field: 'personalizations.0.substitutions', message: MAIL_MESSAGES.substitutionKey },
    ]);
    expect(await outboxOf(owner.accountId)).toEqual([]);
  });

  it('renders chained substitutions in one pass, and the outbox holds the rendered text', async () => {
    // Arrange
    const { owner, ownerKey } = await newAccount();
    const body = {
      ...MINIMAL,
      subject: 'Hi -a-',
      content: [
        { type: 'text/plain', value: '-a- then -b-' },
        { type: 'text/html', value: '<p>-ab-</p>' },
      ],
      personalizations: [
        {
          to: recipients(1),
          substitutions: { '-a-': '-b-', '-b-': '-a-', '-ab-': '-a-' },
        },
        { to: recipients(1, 'other.example.com'), subject: 'For -b-' },
      ],
    };

    // Act
    const res = await send(ownerKey, body);

    // Assert
    expect(res.status).toBe(202);
    const outbox = await outboxOf(owner.accountId);
    expect(outbox).toEqual([
      expect.objectContaining({
        messageId: res.headers['x-message-id'],
        payload: body,
        rendered: [
          {
            subject: 'Hi -b-',
            content: [
              { type: 'text/plain', value: '-b- then -a-' },
              { type: 'text/html', value: '<p>-a-</p>' },
            ],
          },
          { subject: 'For -b-', content: body.content },
        ],
      }),
    ]);
  });

  it('accepts 10,000 bytes of substitutions in a personalization and refuses 10,001 with 400', async () => {
    // Arrange: 'é' is 2 bytes of UTF-8
    const { owner, ownerKey } = await newAccount();
    const withSubstitutions = (value: string) => ({
      ...MINIMAL,
      personalizations: [
        { to: recipients(1) },
        { to: recipients(1, 'other.example.com'), substitutions: { '-n-': value } },
      ],
    });

    // Act
    const accepted = await send(ownerKey, withSubstitutions(`${'é'.repeat(4998)}x`));
    const refused = await send(ownerKey, withSubstitutions(`${'é'.repeat(4998)}xx`));

    // Assert
    expect(accepted.status).toBe(202);
    expect(refused.status).toBe(400);
    expect(errors(refused.body)).toEqual([
      { field: 'personalizations.1.substitutions', message: MAIL_MESSAGES.substitutionsSize },
    ]);
    const outbox = await outboxOf(owner.accountId);
    expect(outbox.map((m) => m.messageId)).toEqual([accepted.headers['x-message-id']]);
  });

  it('refuses substitutions that would render beyond the cap with 400, writing nothing', async () => {
    // Arrange: 5,000 one-byte keys in the content, each worth 9,999 bytes: 50 MB rendered
    const { owner, ownerKey } = await newAccount();
    const body = {
      ...MINIMAL,
      content: [{ type: 'text/plain', value: '-'.repeat(5000) }],
      personalizations: [{ to: recipients(1), substitutions: { '-': 'x'.repeat(9999) } }],
    };

    // Act
    const res = await send(ownerKey, body);

    // Assert
    expect(res.status).toBe(400);
    expect(errors(res.body)).toEqual([
      { field: 'personalizations', message: MAIL_MESSAGES.renderedSize },
    ]);
    expect(await outboxOf(owner.accountId)).toEqual([]);
  });
});
