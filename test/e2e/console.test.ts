/// <reference lib="dom" />
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PICKER_CATEGORIES, scopesFor } from '../../console/src/permissions.js';
import { freePort } from '../../local/dynamodb-local.js';
import { type LocalInstance, REPO, startInstance } from '../helpers/local-instance.js';

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
  process.env.KEYGATE_SCREENSHOTS === 'docs'
    ? join(REPO, 'docs')
    : mkdtempSync(join(tmpdir(), 'keygate-shots-'));

let instance: LocalInstance;
let ownerKey: string;
let browser: Browser;

beforeAll(async () => {
  await build({ configFile: join(REPO, 'console/vite.config.ts'), logLevel: 'warn' });
  instance = await startInstance(mkdtempSync(join(tmpdir(), 'keygate-e2e-')), await freePort());
  ownerKey = /^\s+(SG\.\S+)$/m.exec(instance.output())?.[1] ?? '';
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await instance?.stop();
});

async function newPage(
  width = 1440,
  height = 900,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width, height } });
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

const category = (name: string) => {
  const found = PICKER_CATEGORIES.find((c) => c.name === name);
  if (!found) throw new Error(`no category ${name}`);
  return found;
};

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
    expect(await page.content()).not.toContain(apiKey);

    // The key works with exactly the chosen scopes
    const expected = [
      ...scopesFor(category('Mail'), 'full'),
      ...scopesFor(category('API Keys'), 'read'),
    ].sort();
    const scopes = (await (await api('/v3/scopes', apiKey)).json()) as { scopes: string[] };
    expect(scopes.scopes).toEqual(expected);
    await expect.poll(() => page.getByRole('row').count()).toBe(3);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-list.png') });

    // Edit by keyboard through the row's action menu: add Alerts → Read Access
    const menu = page.getByRole('button', { name: 'Actions for Mail sender' });
    await menu.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('menuitem', { name: 'Edit' }).waitFor();
    await page.keyboard.press('Enter');
    const edit = page.getByRole('dialog', { name: 'Edit Mail sender' });
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

  it('keeps focus inside a dialog and returns it to the opener on Escape', async () => {
    const { context, page } = await newPage();
    await signIn(page, ownerKey);
    const opener = page.getByRole('button', { name: 'Create API Key' });

    await opener.click();
    for (let i = 0; i < 200; i++) await page.keyboard.press('Tab');
    const inside = await page.evaluate(() => document.activeElement?.closest('dialog') !== null);
    await page.keyboard.press('Escape');

    expect(inside).toBe(true);
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect(await opener.evaluate((el) => el === document.activeElement)).toBe(true);
    await context.close();
  });

  it.each([375, 1440])('reads well at %i px: nothing overflows sideways', async (width) => {
    const { context, page } = await newPage(width, 800);
    await signIn(page, ownerKey);

    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    await page.getByRole('button', { name: 'Create API Key' }).click();
    const dialogOverflow = await page.evaluate(() => {
      const dialog = document.querySelector('dialog');
      return dialog ? dialog.scrollWidth - dialog.clientWidth : 0;
    });

    expect(overflow).toBeLessThanOrEqual(0);
    expect(dialogOverflow).toBeLessThanOrEqual(0);
    await expectAccessible(page, `create dialog at ${width}px`);
    await context.close();
  });
});
