/// <reference lib="dom" />
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import AxeBuilder from '@axe-core/playwright';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Area, scopesFor } from '../../console/src/permissions.js';
import { freePort } from '../../local/dynamodb-local.js';
import { SENDGRID_CATALOGUE } from '../../shared/domain/catalogue.js';
import { type LocalInstance, REPO, startInstance } from '../helpers/local-instance.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs();

/**
 * The console in Debian's Chromium, driven by playwright-core, against `npm start`'s server (its
 * own process, a fresh data directory). Every view is checked with axe.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Without these, Chromium's background connections are refused by this machine's closed network.
const CHROMIUM_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Screenshots for the README: written to docs/ when KEYGATE_SCREENSHOTS=docs
 * (`npm run docs:screenshots`), to a temporary folder otherwise, so a test run leaves the
 * working tree clean.
 */
const SCREENSHOTS =
  process.env.KEYGATE_SCREENSHOTS === 'docs' ? join(REPO, 'docs') : tempDir('keygate-shots-');

let instance: LocalInstance;
let ownerKey: string;
let browser: Browser;

/**
 * The deployment's config: SendGrid's service and a default plan, generous enough that no test
 * meets it (no rate limit), so every key route counts and keys may have limits of their own.
 * `basic` (tighter) and `pro` (looser) give the subusers' plan select a choice, and one it must
 * not offer; no account is on either unless a test puts a subuser there.
 */
const PLAN_CONFIG = `export default {
  plans: [
    { id: 'basic', quota: { perDay: 50000, perMonth: 500000 } },
    { id: 'starter', quota: { perDay: 100000, perMonth: 1000000 } },
    { id: 'pro', quota: { perDay: 1000000, perMonth: 10000000 } },
  ],
  defaultPlan: 'starter',
};
`;

beforeAll(async () => {
  await build({ configFile: join(REPO, 'console/vite.config.ts'), logLevel: 'warn' });
  const config = join(tempDir('keygate-config-'), 'keygate.config.mjs');
  writeFileSync(config, PLAN_CONFIG);
  instance = await startInstance(tempDir('keygate-e2e-'), await freePort(), {
    env: { KEYGATE_CONFIG: config },
  });
  ownerKey = /^\s+(SG\.\S+)$/m.exec(instance.output())?.[1] ?? '';
  browser = await launchInTempDir(tempDir('keygate-chromium-'));
});

afterAll(async () => {
  await browser?.close();
  await instance?.stop();
});

/**
 * Chromium with every temp file of the browser's (playwright's profile and artifacts folders,
 * Chromium's own) in `dir`, which the test file removes: a run that is cut short leaves one
 * `keygate-*` folder at most, which the e2e tier's temp-dir check reports.
 */
async function launchInTempDir(dir: string): Promise<Browser> {
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir; // os.tmpdir() for playwright, TMPDIR for Chromium
  try {
    return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
}

async function newPage(
  width = 1440,
  height = 900,
  timezoneId?: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width, height },
    ...(timezoneId ? { timezoneId } : {}),
  });
  // A busy CI machine (2 cores, every tier at once) can be slow; slow is not wrong.
  context.setDefaultTimeout(90_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: instance.url });
  const page = await context.newPage();
  await page.goto(instance.url);
  return { context, page };
}

async function signIn(page: Page, key: string) {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'API Keys' }).waitFor();
}

/** No serious or critical accessibility violation in the current view. */
async function expectAccessible(page: Page, view: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const severe = results.violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
  expect(
    severe.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    view,
  ).toEqual([]);
}

async function api(path: string, key: string, init: RequestInit = {}) {
  return fetch(`${instance.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...init.headers,
    },
  });
}

interface StoredKey {
  name: string;
  expires_at: string | null;
  allowed_ips: string[];
  last_used_at: string | null;
  last_used_ip: string | null;
}

async function storedKey(id: string): Promise<StoredKey> {
  const res = await api(`/v3/api_keys/${id}`, ownerKey);
  expect(res.status).toBe(200);
  return (await res.json()) as StoredKey;
}

/** The key ID inside a key: `SG.<id>.<secret>`. */
const keyIdOf = (key: string) => key.split('.')[1] ?? '';

/** Opens a row's action menu and picks an item. */
async function rowAction(page: Page, keyName: string, item: string) {
  await page.getByRole('button', { name: `Actions for ${keyName}` }).click();
  await page.getByRole('menuitem', { name: item }).click();
}

/** Opens Create API Key and fills in a Restricted key with Full Access to Mail: the dialog. */
async function startMailKey(page: Page, name: string): Promise<Locator> {
  await page.getByRole('button', { name: 'Create API Key' }).click();
  const create = page.getByRole('dialog', { name: 'Create API Key' });
  await create.getByLabel('API Key Name').fill(name);
  await create.getByRole('radio', { name: /Restricted Access/ }).check();
  await create
    .getByRole('group', { name: 'Mail', exact: true })
    .getByRole('radio', { name: 'Full Access' })
    .check();
  return create;
}

/** The deployment's areas, as the console fetches them. */
async function deployedAreas(): Promise<Area[]> {
  const res = await api('/v3/scopes/areas', ownerKey);
  expect(res.status).toBe(200);
  return ((await res.json()) as { areas: Area[] }).areas;
}

const areaOf = (areas: readonly Area[], label: string) => {
  const found = areas.find((a) => a.label === label);
  if (!found) throw new Error(`no area ${label}`);
  return found;
};

/** The labels of the Restricted Access rows, in the order the dialog shows them. */
const pickerRows = (dialog: Locator) =>
  dialog.locator('fieldset.category > legend').allTextContents();

/**
 * Answers one API path in this page with `body` instead of the server (a stand-in deployment);
 * resolves to the function that lets the server answer again.
 */
async function stubPath(
  page: Page,
  path: string,
  status: number,
  body: unknown,
): Promise<() => Promise<void>> {
  const matches = (url: URL) => url.pathname === path;
  await page.route(matches, (route) =>
    route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) }),
  );
  return () => page.unroute(matches);
}

describe('console', () => {
  it('loads at most 100 KB of gzipped JavaScript', () => {
    const assets = join(REPO, 'console/dist/assets');
    const bytes = readdirSync(assets)
      .filter((f) => f.endsWith('.js'))
      .reduce((sum, f) => sum + gzipSync(readFileSync(join(assets, f))).length, 0);

    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(100 * 1024);
  });

  it('refuses a wrong key in plain words', async () => {
    const { context, page } = await newPage();

    await page.getByLabel('API key').fill(`SG.${'a'.repeat(22)}.${'b'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('That key was not accepted');
    await expectAccessible(page, 'sign-in with error');
    await context.close();
  });

  it('signs in, creates a restricted key, shows and copies it once, edits it, deletes it, signs out', async () => {
    // Sign in
    const { context, page } = await newPage();
    await expectAccessible(page, 'sign-in');
    await signIn(page, ownerKey);
    await expect.poll(() => page.getByRole('row').count()).toBe(2);
    await expectAccessible(page, 'list');

    // Create a restricted key: Mail → Full Access, API Keys → Read Access
    await page.getByRole('button', { name: 'Create API Key' }).click();
    const create = page.getByRole('dialog', { name: 'Create API Key' });
    await create.getByLabel('API Key Name').fill('Mail sender');
    await create.getByRole('radio', { name: /Restricted Access/ }).check();
    await create
      .getByRole('group', { name: 'Mail', exact: true })
      .getByRole('radio', { name: 'Full Access' })
      .check();
    await create
      .getByRole('group', { name: 'API Keys' })
      .getByRole('radio', { name: 'Read Access' })
      .check();
    await expectAccessible(page, 'create dialog');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-create.png') });
    await create.getByRole('button', { name: 'Create & View' }).click();

    // Shown once, with a copy button and the warning
    const shown = page.getByRole('dialog', { name: 'API Key Created' });
    await expect.poll(() => shown.textContent()).toContain('It will not be shown again.');
    const apiKey = await shown.getByLabel('Mail sender').inputValue();
    expect(apiKey).toMatch(/^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    await shown.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(apiKey);
    await expectAccessible(page, 'created dialog');
    await shown.getByRole('button', { name: 'Done' }).click();
    // The page re-renders after the click has returned: wait for the dialog to go.
    await shown.waitFor({ state: 'hidden' });
    expect(await page.content()).not.toContain(apiKey);

    // The key works with exactly the chosen scopes
    const areas = await deployedAreas();
    const expected = [
      ...scopesFor(areaOf(areas, 'Mail'), 'full'),
      ...scopesFor(areaOf(areas, 'API Keys'), 'read'),
    ].sort();
    const scopes = (await (await api('/v3/scopes', apiKey)).json()) as { scopes: string[] };
    expect(scopes.scopes).toEqual(expected);
    await expect.poll(() => page.getByRole('row').count()).toBe(3);

    // Edit by keyboard through the row's action menu: add Alerts → Read Access
    const menu = page.getByRole('button', { name: 'Actions for Mail sender' });
    await menu.focus();
    await page.keyboard.press('Enter');
    // The menu moves focus to its first item once it has rendered: Enter before that would go to
    // the menu button (closing the menu) on a busy machine.
    const editItem = page.getByRole('menuitem', { name: 'Edit' });
    await expect.poll(() => editItem.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    const edit = page.getByRole('dialog', { name: 'Edit Mail sender' });
    await edit.waitFor();
    await edit
      .getByRole('group', { name: 'Alerts' })
      .getByRole('radio', { name: 'Read Access' })
      .check();
    await expectAccessible(page, 'edit dialog');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => edit.isVisible()).toBe(false);
    const after = (await (await api('/v3/scopes', apiKey)).json()) as { scopes: string[] };
    expect(after.scopes).toEqual([...expected, 'alerts.read'].sort());

    // Delete, after a confirmation naming the key
    await page.getByRole('button', { name: 'Actions for Mail sender' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete API Key' });
    expect(await confirm.textContent()).toContain('Mail sender');
    await expectAccessible(page, 'delete dialog');
    await confirm.getByRole('button', { name: 'Delete Mail sender' }).click();
    await expect.poll(() => page.getByRole('row').count()).toBe(2);
    expect((await api('/v3/scopes', apiKey)).status).toBe(401);

    // Sign out forgets the key
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await context.close();
  });

  it('disables what a restricted admin key cannot grant, with the reason', async () => {
    // Arrange: an admin key that manages keys and sends mail, nothing else
    const res = await api('/v3/api_keys', ownerKey, {
      method: 'POST',
      body: JSON.stringify({
        name: 'admin',
        scopes: [
          'api_keys.create',
          'api_keys.read',
          'api_keys.update',
          'api_keys.delete',
          'mail.send',
        ],
      }),
    });
    const admin = ((await res.json()) as { api_key: string }).api_key;
    const { context, page } = await newPage();

    // Act
    await signIn(page, admin);
    await page.getByRole('button', { name: 'Create API Key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API Key' });

    // Assert
    const billing = dialog.getByRole('radio', { name: /Billing Access/ });
    expect(await billing.isDisabled()).toBe(true);
    expect(await dialog.getByText('you cannot grant more than you have').first().isVisible()).toBe(
      true,
    );
    const alerts = dialog.getByRole('group', { name: 'Alerts' });
    expect(await alerts.getByRole('radio', { name: /Read Access/ }).isDisabled()).toBe(true);
    expect(
      await dialog
        .getByRole('group', { name: 'API Keys' })
        .getByRole('radio', { name: /Full Access/ })
        .isDisabled(),
    ).toBe(false);
    await context.close();
  });

  it('shows SendGrid’s categories without a config, as the API lists them', async () => {
    // Arrange: the route answers SendGrid's catalogue
    const areas = await deployedAreas();
    expect(areas).toEqual(
      SENDGRID_CATALOGUE.areas.map(({ id, label, billing, read, full }) => ({
        id,
        label,
        billing,
        read,
        full,
      })),
    );
    const { context, page } = await newPage();
    await signIn(page, ownerKey);

    // Act
    await page.getByRole('button', { name: 'Create API Key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API Key' });
    await dialog.getByRole('radio', { name: /Restricted Access/ }).check();

    // Assert: a row per non-billing area, in the API's order; billing is its own key type
    await expect
      .poll(() => pickerRows(dialog))
      .toEqual(areas.filter((a) => !a.billing).map((a) => a.label));
    expect(await dialog.getByRole('radio', { name: /Billing Access/ }).isDisabled()).toBe(false);
    await context.close();
  });

  it('builds the picker from the deployment’s areas: a team’s, without SendGrid or billing', async () => {
    // Arrange: this page is told of a team's deployment (`preset: "none"`, no billing area) and
    // signs in with a key of it; the server itself still runs SendGrid's preset
    const apiKeys = areaOf(await deployedAreas(), 'API Keys');
    const invoices = {
      id: 'invoices',
      label: 'Invoices',
      billing: false,
      read: ['invoices.read'],
      full: ['invoices.create', 'invoices.read'],
    };
    const { context, page } = await newPage();
    await stubPath(page, '/v3/scopes/areas', 200, { areas: [apiKeys, invoices] });
    await stubPath(page, '/v3/scopes', 200, { scopes: [...apiKeys.full, ...invoices.full] });
    await signIn(page, ownerKey);

    // Act
    await page.getByRole('button', { name: 'Create API Key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API Key' });
    await dialog.getByLabel('API Key Name').fill('Invoicing');
    await dialog.getByRole('radio', { name: /Restricted Access/ }).check();

    // Assert: the team's rows and labels, no Billing Access, Full Access without "except billing"
    await expect.poll(() => pickerRows(dialog)).toEqual(['API Keys', 'Invoices']);
    expect(await dialog.getByRole('radio', { name: /Billing Access/ }).count()).toBe(0);
    expect(await dialog.getByText('except billing').count()).toBe(0);
    await dialog
      .getByRole('group', { name: 'Invoices' })
      .getByRole('radio', { name: 'Full Access' })
      .check();
    await expectAccessible(page, 'create dialog of a team deployment');
    const posted = page.waitForRequest(
      (r) => r.method() === 'POST' && new URL(r.url()).pathname === '/v3/api_keys',
    );
    await dialog.getByRole('button', { name: 'Create & View' }).click();
    expect((await posted).postDataJSON()).toMatchObject({
      name: 'Invoicing',
      scopes: ['invoices.create', 'invoices.read'],
    });
    await context.close();
  });

  it('keeps listing and deleting keys when the areas cannot be loaded, and retries', async () => {
    // Arrange: a key to delete, and an areas request that fails
    const res = await api('/v3/api_keys', ownerKey, {
      method: 'POST',
      body: JSON.stringify({ name: 'Doomed', scopes: ['mail.send'] }),
    });
    expect(res.status).toBe(201);
    const { context, page } = await newPage();
    const unstub = await stubPath(page, '/v3/scopes/areas', 500, {
      errors: [{ field: null, message: 'internal error' }],
    });

    // Act
    await signIn(page, ownerKey);

    // Assert: the error in words; the list, without Create or Edit
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('the permissions could not be loaded. Keygate is having trouble right now.');
    await page.getByRole('row', { name: /Doomed/ }).waitFor();
    expect(await page.getByRole('button', { name: 'Create API Key' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Actions for Doomed' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).waitFor();
    expect(await page.getByRole('menuitem').allTextContents()).toEqual([
      'Roll',
      'Usage',
      'History',
      'Delete',
    ]);
    await expectAccessible(page, 'list without the areas');
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete API Key' });
    await confirm.getByRole('button', { name: 'Delete Doomed' }).click();
    await expect.poll(() => page.getByRole('row', { name: /Doomed/ }).count()).toBe(0);

    // Retry once the API answers: Create comes back
    await unstub();
    await page.getByRole('button', { name: 'Retry' }).click();
    await expect
      .poll(() => page.getByRole('button', { name: 'Create API Key' }).isEnabled())
      .toBe(true);
    expect(await page.getByRole('alert').count()).toBe(0);
    await context.close();
  });

  it('keeps focus inside a dialog and returns it to the opener on Escape', async () => {
    const { context, page } = await newPage();
    await signIn(page, ownerKey);
    const opener = page.getByRole('button', { name: 'Create API Key' });

    await opener.click();
    // Tab once the dialog is open, not on the page behind it while it opens.
    await page.getByRole('dialog', { name: 'Create API Key' }).waitFor();
    for (let i = 0; i < 200; i++) await page.keyboard.press('Tab');
    const inside = await page.evaluate(() => document.activeElement?.closest('dialog') !== null);
    await page.keyboard.press('Escape');

    expect(inside).toBe(true);
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    // Focus returns once the dialog has closed, in the render after it.
    await expect.poll(() => opener.evaluate((el) => el === document.activeElement)).toBe(true);
    await context.close();
  });

  it.each([375, 800, 1440])('reads well at %i px: nothing overflows sideways', async (width) => {
    const { context, page } = await newPage(width, 800);
    await signIn(page, ownerKey);

    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    await page.getByRole('button', { name: 'Create API Key' }).click();
    await page.getByRole('dialog', { name: 'Create API Key' }).waitFor();
    const dialogOverflow = await page.evaluate(() => {
      const dialog = document.querySelector('dialog');
      return dialog ? dialog.scrollWidth - dialog.clientWidth : 0;
    });

    expect(overflow).toBeLessThanOrEqual(0);
    expect(dialogOverflow).toBeLessThanOrEqual(0);
    await expectAccessible(page, `create dialog at ${width}px`);
    await context.close();
  });

  it('creates a key with an expiry and an IP allowlist, rolls it, shows its history, and clears them', async () => {
    // Arrange: New York time, so the conversion to UTC is visible (10:30 EST = 15:30 UTC)
    const { context, page } = await newPage(1440, 900, 'America/New_York');
    await signIn(page, ownerKey);
    const create = await startMailKey(page, 'Deploy bot');
    const allowlist = create.getByLabel('Allowed IP addresses (optional)');

    // A bad entry: the server's message shows beside the allowlist, in words
    await allowlist.fill('127.0.0.1\nnot-an-ip');
    await create.getByRole('button', { name: 'Create & View' }).click();
    await expect
      .poll(() => create.getByRole('alert').textContent())
      .toBe('"not-an-ip" is not an IP address or CIDR block');
    expect(await allowlist.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => allowlist.evaluate((el) => el === document.activeElement)).toBe(true);
    await expectAccessible(page, 'create dialog with an allowlist error');

    // Act: an expiry and a valid allowlist
    await create.getByLabel('Expires (optional)').fill('2030-01-31T10:30');
    await allowlist.fill('127.0.0.1\n10.0.0.0/8\n');
    await expectAccessible(page, 'create dialog with limits');
    const posted = page.waitForRequest(
      (r) => r.method() === 'POST' && new URL(r.url()).pathname === '/v3/api_keys',
    );
    await create.getByRole('button', { name: 'Create & View' }).click();
    expect((await posted).postDataJSON()).toMatchObject({
      name: 'Deploy bot',
      expires_at: '2030-01-31T15:30:00Z',
      allowed_ips: ['127.0.0.1', '10.0.0.0/8'],
    });
    const created = page.getByRole('dialog', { name: 'API Key Created' });
    const first = await created.getByLabel('Deploy bot').inputValue();
    await created.getByRole('button', { name: 'Done' }).click();

    // Assert: the API stored both; the list shows the expiry
    const id = keyIdOf(first);
    const stored = await storedKey(id);
    expect(Date.parse(stored.expires_at ?? '')).toBe(Date.parse('2030-01-31T15:30:00Z'));
    expect(stored.allowed_ips).toEqual(['127.0.0.1/32', '10.0.0.0/8']);
    const row = page.getByRole('row', { name: /Deploy bot/ });
    // Cells after the name (a row header): ID, Created, Last used, Expires, actions
    await expect.poll(() => row.getByRole('cell').nth(2).textContent()).toBe('Never');
    expect(await row.getByRole('cell').nth(3).textContent()).toContain('2030');
    expect((await api('/v3/scopes', first)).status).toBe(200); // from 127.0.0.1: allowed

    // Roll with the default grace period (24 hours)
    await rowAction(page, 'Deploy bot', 'Roll');
    const roll = page.getByRole('dialog', { name: 'Roll Deploy bot' });
    expect(await roll.textContent()).toContain(id);
    expect(await roll.getByRole('radio', { name: '24 hours' }).isChecked()).toBe(true);
    await expectAccessible(page, 'roll dialog');
    await roll.getByRole('button', { name: 'Roll & View' }).click();
    const rolled = page.getByRole('dialog', { name: 'API Key Rolled' });
    await expect.poll(() => rolled.textContent()).toContain('It will not be shown again.');
    expect(await rolled.textContent()).toContain('The previous key keeps working until');
    const second = await rolled.getByLabel('Deploy bot').inputValue();
    expect(second).not.toBe(first);
    expect(keyIdOf(second)).toBe(id);
    await rolled.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(second);
    await expectAccessible(page, 'rolled dialog');
    await rolled.getByRole('button', { name: 'Done' }).click();
    await rolled.waitFor({ state: 'hidden' });
    expect(await page.content()).not.toContain(second);
    expect((await api('/v3/scopes', second)).status).toBe(200);
    expect((await api('/v3/scopes', first)).status).toBe(200); // still in its grace period
    // The README's list: last use with its address, an expiry
    await expect.poll(() => row.getByRole('cell').nth(2).textContent()).toContain('from 127.0.0.1');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-list.png') });

    // Roll again, by keyboard, with no grace period: both earlier secrets stop at once
    await page.getByRole('button', { name: 'Actions for Deploy bot' }).focus();
    await page.keyboard.press('Enter');
    // The menu moves focus to its first item as it opens: wait for that, then for Roll.
    const focusedItem = () => page.evaluate(() => document.activeElement?.textContent?.trim());
    await expect.poll(focusedItem).toBe('Edit');
    await page.keyboard.press('ArrowDown');
    await expect.poll(focusedItem).toBe('Roll');
    await page.keyboard.press('Enter');
    const again = page.getByRole('dialog', { name: 'Roll Deploy bot' });
    await again.getByRole('radio', { name: /None/ }).check();
    await again.getByRole('button', { name: 'Roll & View' }).click();
    const rolledAgain = page.getByRole('dialog', { name: 'API Key Rolled' });
    await expect
      .poll(() => rolledAgain.textContent())
      .toContain('The previous key has stopped working.');
    const third = await rolledAgain.getByLabel('Deploy bot').inputValue();
    await rolledAgain.getByRole('button', { name: 'Done' }).click();
    expect((await api('/v3/scopes', third)).status).toBe(200);
    expect((await api('/v3/scopes', second)).status).toBe(401);
    expect((await api('/v3/scopes', first)).status).toBe(401);

    // History: newest first, in words
    await rowAction(page, 'Deploy bot', 'History');
    const history = page.getByRole('dialog', { name: 'History of Deploy bot' });
    const events = history.getByRole('listitem');
    await expect.poll(() => events.count()).toBe(3);
    const [latest, earlier, creation] = await events.allTextContents();
    expect(latest).toContain('Rolled');
    expect(latest).toContain('The previous key stopped working at once');
    expect(earlier).toContain('Rolled');
    expect(earlier).toContain('The previous key works until');
    expect(creation).toContain('Created');
    expect(creation).toContain(`By key ${keyIdOf(ownerKey)} (Owner key), from 127.0.0.1`);
    expect(creation).toContain('mail.send');
    expect(await history.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    await expectAccessible(page, 'history dialog');
    await history.getByRole('button', { name: 'Close' }).click();

    // Edit: the form shows both in local time and as lines, and can clear them
    await rowAction(page, 'Deploy bot', 'Edit');
    const edit = page.getByRole('dialog', { name: 'Edit Deploy bot' });
    const expires = edit.getByLabel('Expires (optional)');
    await expect.poll(() => expires.inputValue()).toBe('2030-01-31T10:30');
    expect(await edit.getByLabel('Allowed IP addresses (optional)').inputValue()).toBe(
      '127.0.0.1/32\n10.0.0.0/8',
    );
    await expectAccessible(page, 'edit dialog with limits');
    await edit.getByRole('button', { name: 'Clear expiry' }).click();
    await edit.getByLabel('Allowed IP addresses (optional)').fill('');
    const cleared = page.waitForRequest((r) => r.method() === 'PUT');
    await edit.getByRole('button', { name: 'Save' }).click();
    expect((await cleared).postDataJSON()).toMatchObject({ expires_at: null, allowed_ips: null });
    await expect.poll(() => edit.isVisible()).toBe(false);
    const after = await storedKey(id);
    expect(after.expires_at).toBeNull();
    expect(after.allowed_ips).toEqual([]);
    expect(after.last_used_ip).toBe('127.0.0.1');

    // Edit without touching them: they are left out of the request
    await rowAction(page, 'Deploy bot', 'Edit');
    const untouched = page.waitForRequest((r) => r.method() === 'PUT');
    await page
      .getByRole('dialog', { name: 'Edit Deploy bot' })
      .getByRole('button', { name: 'Save' })
      .click();
    const body = (await untouched).postDataJSON() as Record<string, unknown>;
    expect(body).not.toHaveProperty('expires_at');
    expect(body).not.toHaveProperty('allowed_ips');

    // The list: expiry gone, last use with its address
    await expect.poll(() => row.getByRole('cell').nth(3).textContent()).toBe('Never');
    expect(await row.getByRole('cell').nth(2).textContent()).toContain('from 127.0.0.1');
    await context.close();
  });

  it('pages through a long history, and says when there is none', async () => {
    // Arrange: a key renamed 24 times (25 events: more than one page of 20)
    const res = await api('/v3/api_keys', ownerKey, {
      method: 'POST',
      body: JSON.stringify({ name: 'Busy', scopes: ['mail.send'] }),
    });
    const { api_key_id: id } = (await res.json()) as { api_key_id: string };
    for (let i = 1; i <= 24; i++) {
      const name = i === 24 ? 'Busy' : `Busy ${i}`;
      const renamed = await api(`/v3/api_keys/${id}`, ownerKey, {
        method: 'PATCH',
        body: JSON.stringify({ name }),
      });
      expect(renamed.status).toBe(200);
    }
    const { context, page } = await newPage();
    await signIn(page, ownerKey);

    // Act
    await rowAction(page, 'Busy', 'History');
    const history = page.getByRole('dialog', { name: 'History of Busy' });
    const events = history.getByRole('listitem');
    await expect.poll(() => events.count()).toBe(20);
    expect(await events.first().textContent()).toContain('Name set to “Busy”');
    await history.getByRole('button', { name: 'Load more' }).click();

    // Assert: the rest, focus on the first new event, no more button
    await expect.poll(() => events.count()).toBe(25);
    expect(await events.last().textContent()).toContain('Created');
    await expect
      .poll(() => events.nth(20).evaluate((el) => el === document.activeElement))
      .toBe(true);
    expect(await history.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    await history.getByRole('button', { name: 'Close' }).click();

    // The owner key was made by bootstrap, not through the API: no events
    await rowAction(page, 'Owner key', 'History');
    const empty = page.getByRole('dialog', { name: 'History of Owner key' });
    await expect.poll(() => empty.textContent()).toContain('No events recorded for this key yet');
    await expectAccessible(page, 'empty history dialog');
    await context.close();
  });

  it('warns of expiry within 30, 7 and 1 days with a badge in words', async () => {
    // Arrange: keys expiring in 12 hours, 3 days, 20 days and 60 days
    const HOUR = 3_600_000;
    const expiring: [string, number, string | null][] = [
      ['Ends today', 12 * HOUR, 'Expires within 1 day'],
      ['Ends this week', 72 * HOUR, 'Expires within 7 days'],
      ['Ends this month', 20 * 24 * HOUR, 'Expires within 30 days'],
      ['Ends later', 60 * 24 * HOUR, null],
    ];
    for (const [name, ms] of expiring) {
      const res = await api('/v3/api_keys', ownerKey, {
        method: 'POST',
        body: JSON.stringify({
          name,
          scopes: ['mail.send'],
          expires_at: new Date(Date.now() + ms).toISOString(),
        }),
      });
      expect(res.status).toBe(201);
    }

    // Act
    const { context, page } = await newPage();
    await signIn(page, ownerKey);

    // Assert: each row's Expires cell says how near, in text (not colour alone)
    for (const [name, , badge] of expiring) {
      const cell = page
        .getByRole('row', { name: new RegExp(name) })
        .getByRole('cell')
        .nth(3);
      await expect.poll(() => cell.textContent()).toMatch(/\d/);
      if (badge) expect(await cell.locator('.badge').textContent()).toBe(badge);
      else expect(await cell.locator('.badge').count()).toBe(0);
    }
    await expectAccessible(page, 'list with expiry warnings');
    await context.close();
  });

  it("sets a key's own rate limit and quotas, shows its usage against them and its plan's, and clears them", async () => {
    // Arrange
    const { context, page } = await newPage();
    await signIn(page, ownerKey);
    const create = await startMailKey(page, 'Metered');
    const perSecond = create.getByLabel('Requests per second');

    // A rate without its burst is refused beside the limits, before any request
    await perSecond.fill('5');
    const requests: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') requests.push(r.url());
    });
    await create.getByRole('button', { name: 'Create & View' }).click();
    await expect
      .poll(() => create.getByRole('alert').textContent())
      .toBe('Give both the requests per second and the burst, or neither.');
    expect(await perSecond.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => perSecond.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(requests).toEqual([]);
    await expectAccessible(page, 'create dialog with a limits error');

    // Act: the rate with its burst, and a daily quota
    await create.getByLabel('Burst').fill('10');
    await create.getByLabel('Requests per day').fill('100');
    const posted = page.waitForRequest(
      (r) => r.method() === 'POST' && new URL(r.url()).pathname === '/v3/api_keys',
    );
    await create.getByRole('button', { name: 'Create & View' }).click();
    expect((await posted).postDataJSON()).toMatchObject({
      name: 'Metered',
      limits: { rate: { per_second: 5, burst: 10 }, quota: { per_day: 100 } },
    });
    const created = page.getByRole('dialog', { name: 'API Key Created' });
    const secret = await created.getByLabel('Metered').inputValue();
    await created.getByRole('button', { name: 'Done' }).click();
    const id = keyIdOf(secret);
    // The key is used twice
    for (let i = 0; i < 2; i++) expect((await api('/v3/scopes', secret)).status).toBe(200);

    // Assert: its usage, against its own limits and its account's plan
    await rowAction(page, 'Metered', 'Usage');
    const usage = page.getByRole('dialog', { name: 'Usage of Metered' });
    const own = usage.getByRole('region', { name: "This key's own limits" });
    await expect.poll(() => own.textContent()).toContain('2 of 100 requests today (2 %)');
    expect(await own.textContent()).toContain('Rate: 5 requests per second, bursts of 10');
    expect(await own.textContent()).toContain('2 requests this month');
    expect(await own.getByRole('meter').count()).toBe(1);
    expect(await own.getByRole('meter').evaluate((m) => (m as HTMLMeterElement).value)).toBe(2);
    const plan = usage.getByRole('region', { name: "The account's plan: starter" });
    expect(await plan.textContent()).toContain('Daily quota: 100,000 requests');
    expect(await plan.getByRole('meter').count()).toBe(2);
    await expectAccessible(page, 'usage dialog');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-usage.png') });
    await usage.getByRole('button', { name: 'Close' }).click();

    // A key without limits of its own: not counted, said in words rather than 0
    await rowAction(page, 'Owner key', 'Usage');
    const owner = page.getByRole('dialog', { name: 'Usage of Owner key' });
    await expect
      .poll(() => owner.getByRole('region', { name: "This key's own limits" }).textContent())
      .toContain(
        'This key has no limits of its own, so its requests are not counted on their own.',
      );
    await owner.getByRole('button', { name: 'Close' }).click();

    // The owner key has no limits of its own: its form offers none
    await rowAction(page, 'Owner key', 'Edit');
    const ownerEdit = page.getByRole('dialog', { name: 'Edit Owner key' });
    await expect
      .poll(() => ownerEdit.textContent())
      .toContain("The owner key has no limits of its own; its account's plan applies.");
    expect(await ownerEdit.getByLabel('Requests per second').count()).toBe(0);
    await ownerEdit.getByRole('button', { name: 'Cancel' }).click();

    // Edit: the limits are shown; a monthly quota added sends the whole new object
    await rowAction(page, 'Metered', 'Edit');
    const edit = page.getByRole('dialog', { name: 'Edit Metered' });
    await expect.poll(() => edit.getByLabel('Requests per second').inputValue()).toBe('5');
    expect(await edit.getByLabel('Burst').inputValue()).toBe('10');
    expect(await edit.getByLabel('Requests per day').inputValue()).toBe('100');
    expect(await edit.getByLabel('Requests per month').inputValue()).toBe('');
    await expectAccessible(page, 'edit dialog with own limits');
    await edit.getByLabel('Requests per month').fill('1000');
    const changed = page.waitForRequest((r) => r.method() === 'PUT');
    await edit.getByRole('button', { name: 'Save' }).click();
    expect((await changed).postDataJSON()).toMatchObject({
      limits: { rate: { per_second: 5, burst: 10 }, quota: { per_day: 100, per_month: 1000 } },
    });
    await expect.poll(() => edit.isVisible()).toBe(false);
    expect(((await storedKey(id)) as StoredKey & { limits: unknown }).limits).toEqual({
      rate: { per_second: 5, burst: 10 },
      quota: { per_day: 100, per_month: 1000 },
    });

    // Edit again and empty every limit: null clears them
    await rowAction(page, 'Metered', 'Edit');
    const clear = page.getByRole('dialog', { name: 'Edit Metered' });
    await expect.poll(() => clear.getByLabel('Requests per second').inputValue()).toBe('5');
    for (const label of [
      'Requests per second',
      'Burst',
      'Requests per day',
      'Requests per month',
    ]) {
      await clear.getByLabel(label).fill('');
    }
    const cleared = page.waitForRequest((r) => r.method() === 'PUT');
    await clear.getByRole('button', { name: 'Save' }).click();
    expect((await cleared).postDataJSON()).toMatchObject({ limits: null });
    await expect.poll(() => clear.isVisible()).toBe(false);
    expect(((await storedKey(id)) as StoredKey & { limits: unknown }).limits).toEqual({});
    await context.close();
  });

  it('marks expired keys in the list, also in the 375 px stacked layout', async () => {
    // Arrange: a key that expires in two seconds
    const expiresAt = Date.now() + 2000;
    const res = await api('/v3/api_keys', ownerKey, {
      method: 'POST',
      body: JSON.stringify({
        name: 'Short-lived',
        scopes: ['mail.send'],
        expires_at: new Date(expiresAt).toISOString(),
      }),
    });
    expect(res.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 200));

    // Act
    const { context, page } = await newPage(375, 800);
    await signIn(page, ownerKey);

    // Assert
    const row = page.getByRole('row', { name: /Short-lived/ });
    await expect.poll(() => row.textContent()).toContain('Expired');
    const expires = row.getByRole('cell').nth(3);
    expect(await expires.getAttribute('data-label')).toBe('Expires');
    expect(await expires.evaluate((el) => getComputedStyle(el).display)).toBe('block');
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    ).toBeLessThanOrEqual(0);
    await expectAccessible(page, 'list with an expired key at 375px');
    await context.close();
  });
});

/** A subuser of the owner's account, made through the API (the password is discarded). */
async function createSubuser(username: string): Promise<void> {
  const res = await api('/v3/subusers', ownerKey, {
    method: 'POST',
    body: JSON.stringify({
      username,
      email: `${username}@example.com`,
      password: 'discarded-by-keygate',
      ips: [],
    }),
  });
  expect(res.status).toBe(200);
}

/** The subuser as the API lists it. */
async function subuserNamed(
  username: string,
): Promise<{ disabled: boolean; plan: string | null } | undefined> {
  const res = await api(`/v3/subusers?username=${encodeURIComponent(username)}`, ownerKey);
  expect(res.status).toBe(200);
  const list = (await res.json()) as { username: string; disabled: boolean; plan: string | null }[];
  return list.find((s) => s.username === username);
}

/** The IDs of the keys in an account: the owner's, or a subuser's through `on-behalf-of`. */
async function keyIdsOf(subuser?: string): Promise<string[]> {
  const res = await api('/v3/api_keys', ownerKey, {
    headers: subuser === undefined ? {} : { 'on-behalf-of': subuser },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { result: { api_key_id: string }[] }).result.map(
    (k) => k.api_key_id,
  );
}

/** A key created in a subuser's account by the owner's key. */
async function subuserKey(subuser: string, name: string): Promise<string> {
  const res = await api('/v3/api_keys', ownerKey, {
    method: 'POST',
    headers: { 'on-behalf-of': subuser },
    body: JSON.stringify({ name, scopes: ['mail.send'] }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { api_key: string }).api_key;
}

/** A key of the owner's account with exactly these scopes. */
async function keyWithScopes(name: string, scopes: string[]): Promise<string> {
  const res = await api('/v3/api_keys', ownerKey, {
    method: 'POST',
    body: JSON.stringify({ name, scopes }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { api_key: string }).api_key;
}

/** The key-management requests a page makes, with the subuser each names (`on-behalf-of`). */
function keyRequests(page: Page): { path: string; onBehalfOf: string | undefined }[] {
  const seen: { path: string; onBehalfOf: string | undefined }[] = [];
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith('/v3/api_keys') || pathname === '/v3/scopes/areas') {
      seen.push({ path: pathname, onBehalfOf: request.headers()['on-behalf-of'] });
    }
  });
  return seen;
}

/** The banner shown while the console manages a subuser's keys. */
const actingBanner = (page: Page) => page.locator('header [role="status"]');

describe('console: subusers', () => {
  it('lists subusers, creates one without a password, refuses a taken name, disables and enables', async () => {
    // Arrange: a subuser with a working key
    await createSubuser('acme-e2e');
    const acmeKey = await subuserKey('acme-e2e', 'Acme mail');
    expect((await api('/v3/scopes', acmeKey)).status).toBe(200);
    const { context, page } = await newPage();
    await signIn(page, ownerKey);

    // Act: the navigation's Subusers link
    const nav = page.getByRole('navigation', { name: 'Console' });
    expect(await nav.getByRole('link', { name: 'API Keys' }).getAttribute('aria-current')).toBe(
      'page',
    );
    await nav.getByRole('link', { name: 'Subusers' }).click();

    // Assert: the list, with each subuser's email and status
    await page.getByRole('heading', { name: 'Subusers', level: 1 }).waitFor();
    expect(await nav.getByRole('link', { name: 'Subusers' }).getAttribute('aria-current')).toBe(
      'page',
    );
    expect(await nav.getByRole('link', { name: 'API Keys' }).getAttribute('aria-current')).toBe(
      null,
    );
    const acme = page.getByRole('row', { name: /acme-e2e/ });
    await expect.poll(() => acme.textContent()).toContain('acme-e2e@example.com');
    expect(await acme.getByRole('cell').nth(1).textContent()).toBe('Enabled');
    expect(await page.title()).toBe('Subusers · Keygate');
    await expectAccessible(page, 'subusers list');

    // Create: a username and an email, no password asked; a random one is sent and discarded
    await page.getByRole('button', { name: 'Create Subuser' }).click();
    const create = page.getByRole('dialog', { name: 'Create Subuser' });
    expect(await create.textContent()).toContain('Subusers sign in with API keys, not passwords');
    expect(await create.getByLabel(/password/i).count()).toBe(0);
    await create.getByLabel('Username').fill('globex-e2e');
    await create.getByLabel('Email').fill('ops@globex.example');
    await expectAccessible(page, 'create subuser dialog');
    const posted = page.waitForRequest(
      (r) => r.method() === 'POST' && new URL(r.url()).pathname === '/v3/subusers',
    );
    await create.getByRole('button', { name: 'Create Subuser' }).click();
    const body = (await posted).postDataJSON() as Record<string, unknown>;
    expect(body).toMatchObject({ username: 'globex-e2e', email: 'ops@globex.example', ips: [] });
    expect(typeof body.password).toBe('string');
    expect(String(body.password).length).toBeGreaterThanOrEqual(16);
    await expect.poll(() => create.isVisible()).toBe(false);
    const globex = page.getByRole('row', { name: /globex-e2e/ });
    await expect.poll(() => globex.textContent()).toContain('ops@globex.example');
    expect(await page.content()).not.toContain(String(body.password));
    expect(await subuserNamed('globex-e2e')).toMatchObject({ disabled: false });

    // A taken name (whatever the case): the API's message beside the username
    await page.getByRole('button', { name: 'Create Subuser' }).click();
    const again = page.getByRole('dialog', { name: 'Create Subuser' });
    await again.getByLabel('Username').fill('ACME-E2E');
    await again.getByLabel('Email').fill('other@example.com');
    await again.getByRole('button', { name: 'Create Subuser' }).click();
    await expect.poll(() => again.getByRole('alert').textContent()).toBe('username exists');
    const username = again.getByLabel('Username');
    expect(await username.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => username.evaluate((el) => el === document.activeElement)).toBe(true);
    await expectAccessible(page, 'create subuser dialog with a taken name');
    await again.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => again.isVisible()).toBe(false);

    // Disable, after a confirmation: its keys are refused at once
    await page.getByRole('button', { name: 'Disable acme-e2e' }).click();
    const confirm = page.getByRole('dialog', { name: 'Disable Subuser' });
    expect(await confirm.textContent()).toContain('stops working at once');
    await expectAccessible(page, 'disable subuser dialog');
    await confirm.getByRole('button', { name: 'Disable acme-e2e' }).click();
    await expect.poll(() => acme.getByRole('cell').nth(1).textContent()).toBe('Disabled');
    expect(await subuserNamed('acme-e2e')).toMatchObject({ disabled: true });
    expect((await api('/v3/scopes', acmeKey)).status).toBe(401);
    await expectAccessible(page, 'subusers list with a disabled subuser');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-subusers.png') });

    // Enable: no confirmation; its keys work again
    await page.getByRole('button', { name: 'Enable acme-e2e' }).click();
    await expect.poll(() => acme.getByRole('cell').nth(1).textContent()).toBe('Enabled');
    expect(await subuserNamed('acme-e2e')).toMatchObject({ disabled: false });
    expect((await api('/v3/scopes', acmeKey)).status).toBe(200);
    await context.close();
  });

  it('manages a subuser’s keys: its name always shown, every request on its behalf, the key in its account', async () => {
    // Arrange
    await createSubuser('initech-e2e');
    const ownKeys = await keyIdsOf();
    const { context, page } = await newPage();
    const requests = keyRequests(page);
    await signIn(page, ownerKey);
    await page.getByRole('row', { name: /Owner key/ }).waitFor();
    await page.getByRole('link', { name: 'Subusers' }).click();
    await page.getByRole('row', { name: /initech-e2e/ }).waitFor();
    requests.length = 0;

    // Act: Manage keys of the subuser
    await page.getByRole('link', { name: 'Manage keys of initech-e2e' }).click();

    // Assert: the banner names it, the page is its (empty) key list, focus on the heading
    const banner = actingBanner(page);
    await expect.poll(() => banner.textContent()).toContain('Managing keys of subuser initech-e2e');
    await expect.poll(() => page.getByText('initech-e2e has no API keys yet.').count()).toBe(1);
    expect(await banner.getByText('Disabled').count()).toBe(0);
    await expect
      .poll(() =>
        page
          .getByRole('heading', { name: 'API Keys', level: 1 })
          .evaluate((el) => el === document.activeElement),
      )
      .toBe(true);
    expect(await page.title()).toBe('API Keys of initech-e2e · Keygate');
    await expectAccessible(page, 'API keys of a subuser');

    // Create a key there: the dialog says where it goes; the picker stays the caller's
    await page.getByRole('button', { name: 'Create API Key' }).click();
    const create = page.getByRole('dialog', { name: 'Create API Key' });
    expect(await create.textContent()).toContain('created in the account of subuser initech-e2e');
    await create.getByLabel('API Key Name').fill('Initech mail');
    await create.getByRole('radio', { name: /Restricted Access/ }).check();
    await create
      .getByRole('group', { name: 'Mail', exact: true })
      .getByRole('radio', { name: 'Full Access' })
      .check();
    await expectAccessible(page, 'create dialog for a subuser');
    await create.getByRole('button', { name: 'Create & View' }).click();
    const shown = page.getByRole('dialog', { name: 'API Key Created' });
    const created = await shown.getByLabel('Initech mail').inputValue();
    await shown.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('row', { name: /Initech mail/ }).waitFor();
    expect(await banner.textContent()).toContain('initech-e2e');
    await expectAccessible(page, 'API keys of a subuser, with a key');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-subuser-keys.png') });

    // The key is in the subuser's account, not the owner's, and works
    const id = keyIdOf(created);
    expect(await keyIdsOf('initech-e2e')).toEqual([id]);
    expect(await keyIdsOf()).toEqual(ownKeys);
    expect((await api('/v3/scopes', created)).status).toBe(200);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.onBehalfOf !== 'initech-e2e')).toEqual([]);

    // Back to the owner's account: no banner, the owner's keys, requests on its own behalf
    requests.length = 0;
    await banner.getByRole('link', { name: 'Back to your account' }).click();
    await page.getByRole('row', { name: /Owner key/ }).waitFor();
    expect(await banner.textContent()).toBe('');
    expect(await page.getByRole('row', { name: /Initech mail/ }).count()).toBe(0);
    expect(await page.title()).toBe('API Keys · Keygate');
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.onBehalfOf !== undefined)).toEqual([]);
    await context.close();
  });

  it('marks a disabled subuser while managing its keys, which can still be listed and deleted', async () => {
    // Arrange: a disabled subuser with a key; the page opened at its keys' address
    await createSubuser('hooli-e2e');
    await subuserKey('hooli-e2e', 'Hooli mail');
    const disabled = await api('/v3/subusers/hooli-e2e', ownerKey, {
      method: 'PATCH',
      body: JSON.stringify({ disabled: true }),
    });
    expect(disabled.status).toBe(204);
    const { context, page } = await newPage();
    await page.goto(`${instance.url}/#/subusers/hooli-e2e/keys`);

    // Act
    await signIn(page, ownerKey);

    // Assert: named and marked disabled; no key can be created; its key is listed
    const banner = actingBanner(page);
    await page.getByRole('row', { name: /Hooli mail/ }).waitFor();
    expect(await banner.textContent()).toContain('Managing keys of subuser hooli-e2e');
    expect(await banner.getByText('Disabled', { exact: true }).isVisible()).toBe(true);
    expect(await banner.textContent()).toContain('This subuser is disabled');
    expect(await page.getByRole('button', { name: 'Create API Key' }).isDisabled()).toBe(true);
    await expectAccessible(page, 'API keys of a disabled subuser');

    // Its key is deleted from its account
    await rowAction(page, 'Hooli mail', 'Delete');
    await page
      .getByRole('dialog', { name: 'Delete API Key' })
      .getByRole('button', { name: 'Delete Hooli mail' })
      .click();
    await expect.poll(() => page.getByText('hooli-e2e has no API keys yet.').count()).toBe(1);
    expect(await keyIdsOf('hooli-e2e')).toEqual([]);
    await context.close();
  });

  it("shows each subuser's plan, creates one on a chosen plan, changes a plan, and shows the API's refusal beside the select", async () => {
    // Arrange: a subuser on the account's plan (starter, the default)
    await createSubuser('vandelay-e2e');
    const { context, page } = await newPage();
    await signIn(page, ownerKey);

    // Act: the Subusers page
    await page.getByRole('link', { name: 'Subusers' }).click();
    const vandelay = page.getByRole('row', { name: /vandelay-e2e/ });
    await expect.poll(() => vandelay.getByRole('cell').nth(2).textContent()).toBe('starter');
    expect(await page.getByRole('columnheader', { name: 'Plan' }).count()).toBe(1);

    // Create: the select offers the account's plan and the plans within it, never pro
    await page.getByRole('button', { name: 'Create Subuser' }).click();
    const create = page.getByRole('dialog', { name: 'Create Subuser' });
    const select = create.getByLabel('Plan');
    expect(await select.locator('option').allTextContents()).toEqual([
      "Your account's plan (starter)",
      'basic (Daily quota: 50,000 requests; Monthly quota: 500,000 requests)',
      'starter (Daily quota: 100,000 requests; Monthly quota: 1,000,000 requests)',
    ]);
    await create.getByLabel('Username').fill('pied-e2e');
    await create.getByLabel('Email').fill('ops@pied.example');
    await select.selectOption('basic');
    await expectAccessible(page, 'create subuser dialog with a plan');
    const posted = page.waitForRequest(
      (r) => r.method() === 'POST' && new URL(r.url()).pathname === '/v3/subusers',
    );
    await create.getByRole('button', { name: 'Create Subuser' }).click();
    expect((await posted).postDataJSON()).toMatchObject({ username: 'pied-e2e', plan: 'basic' });
    const pied = page.getByRole('row', { name: /pied-e2e/ });
    await expect.poll(() => pied.getByRole('cell').nth(2).textContent()).toBe('basic');
    expect(await subuserNamed('pied-e2e')).toMatchObject({ plan: 'basic' });

    // Change plan: starts on the subuser's plan; the new one is stored and shown
    await page.getByRole('button', { name: 'Change plan of vandelay-e2e' }).click();
    const change = page.getByRole('dialog', { name: 'Change Plan' });
    expect(await change.getByLabel('Plan').inputValue()).toBe('starter');
    await expectAccessible(page, 'change plan dialog');
    await change.getByLabel('Plan').selectOption('basic');
    await change.getByRole('button', { name: 'Change plan' }).click();
    await expect.poll(() => change.isVisible()).toBe(false);
    await expect.poll(() => vandelay.getByRole('cell').nth(2).textContent()).toBe('basic');
    expect(await subuserNamed('vandelay-e2e')).toMatchObject({ plan: 'basic' });

    // A refusal (here the API's 403 for a plan looser than the account's, stood in for: the
    // select never offers one) is shown beside the select, which takes the focus
    const looser =
      "plan cannot be looser than your own account's plan: you cannot grant more than you have";
    const restore = await stubPath(page, '/v3/subusers/vandelay-e2e', 403, {
      errors: [{ field: 'plan', message: looser }],
    });
    await page.getByRole('button', { name: 'Change plan of vandelay-e2e' }).click();
    await change.getByLabel('Plan').selectOption('starter');
    await change.getByRole('button', { name: 'Change plan' }).click();
    await expect.poll(() => change.getByRole('alert').textContent()).toBe(looser);
    const planSelect = change.getByLabel('Plan');
    expect(await planSelect.getAttribute('aria-invalid')).toBe('true');
    expect(await planSelect.getAttribute('aria-describedby')).toContain('subuser-plan-error');
    await expect.poll(() => planSelect.evaluate((el) => el === document.activeElement)).toBe(true);
    await expectAccessible(page, 'change plan dialog with a refusal');
    await restore();
    await change.getByRole('button', { name: 'Cancel' }).click();
    expect(await vandelay.getByRole('cell').nth(2).textContent()).toBe('basic');
    expect(await subuserNamed('vandelay-e2e')).toMatchObject({ plan: 'basic' });
    await context.close();
  });

  it('deletes a subuser once its name is typed', async () => {
    // Arrange
    await createSubuser('umbrella-e2e');
    const { context, page } = await newPage();
    await signIn(page, ownerKey);
    await page.getByRole('link', { name: 'Subusers' }).click();

    // Act: a wrong name first
    await page.getByRole('button', { name: 'Delete umbrella-e2e' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete Subuser' });
    const typed = confirm.getByLabel('Type umbrella-e2e to confirm');
    await typed.fill('umbrella');
    await confirm.getByRole('button', { name: 'Delete umbrella-e2e' }).click();
    await expect
      .poll(() => confirm.getByRole('alert').textContent())
      .toBe('Type umbrella-e2e exactly to confirm.');
    expect(await subuserNamed('umbrella-e2e')).toBeDefined();
    await expectAccessible(page, 'delete subuser dialog with a wrong name');
    await typed.fill('umbrella-e2e');
    await confirm.getByRole('button', { name: 'Delete umbrella-e2e' }).click();

    // Assert
    await expect.poll(() => page.getByRole('row', { name: /umbrella-e2e/ }).count()).toBe(0);
    expect(await subuserNamed('umbrella-e2e')).toBeUndefined();
    await expect
      .poll(() =>
        page
          .getByRole('heading', { name: 'Subusers', level: 1 })
          .evaluate((el) => el === document.activeElement),
      )
      .toBe(true);
    await context.close();
  });

  it('offers only what the key’s subusers scopes allow', async () => {
    // Arrange: a key that reads subusers and manages keys, and may not change subusers
    await createSubuser('readonly-e2e');
    const reader = await keyWithScopes('Subuser reader', [
      'api_keys.create',
      'api_keys.delete',
      'api_keys.read',
      'api_keys.update',
      'subusers.read',
    ]);
    const { context, page } = await newPage();

    // Act
    await signIn(page, reader);
    await page.getByRole('link', { name: 'Subusers' }).click();

    // Assert: the list and Manage keys; no Create, Disable, Enable or Delete
    await page.getByRole('row', { name: /readonly-e2e/ }).waitFor();
    expect(await page.getByRole('link', { name: 'Manage keys of readonly-e2e' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Create Subuser' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^(Disable|Enable|Delete) / }).count()).toBe(0);
    await expectAccessible(page, 'subusers list, read only');
    await context.close();
  });

  it('hides Subusers from a key without subusers.read, even at its address', async () => {
    // Arrange
    const keysOnly = await keyWithScopes('Keys only', [
      'api_keys.create',
      'api_keys.delete',
      'api_keys.read',
      'api_keys.update',
    ]);
    const { context, page } = await newPage();
    await page.goto(`${instance.url}/#/subusers`);

    // Act
    await signIn(page, keysOnly);

    // Assert: its own API Keys page, no navigation, no Subusers link or page
    await page.getByRole('row', { name: /Keys only/ }).waitFor();
    expect(await page.getByRole('navigation').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Subusers' }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Subusers' }).count()).toBe(0);
    await page.goto(`${instance.url}/#/subusers/acme-e2e/keys`);
    await page.getByRole('row', { name: /Keys only/ }).waitFor();
    expect(await actingBanner(page).textContent()).toBe('');
    await context.close();
  });
});
