/**
 * Swagger UI in a real browser, as a person on another machine sees it: Debian's Chromium
 * (`apt-get install chromium`, never a downloaded build) driven by playwright-core, against the
 * built service over plain HTTP under a host name that is not localhost (a browser treats 127.0.0.1
 * and localhost as secure and would hide transport mistakes). Chromium maps that name to
 * 127.0.0.1 itself, so the traffic stays on loopback while the page sees a remote origin.
 * The screenshot stays in artifacts/ (git-ignored) for CI to keep.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium } from './support/chromium';
import { createPostgresDatabase, POSTGRES_URL } from './support/database';
import { verifyHmacToken } from './support/jwt';
import {
  type ServiceProcess,
  startServiceProcess,
  stopServiceProcess,
} from './support/service-process';

const ADMIN = { username: 'admin', password: 'swagger-ui-admin-password' };
const SCREENSHOT = resolve(process.cwd(), 'artifacts/swagger-ui.png');
const ACTION_TIMEOUT = 10_000;

/** What a person on another machine types: a plain host name, mapped to loopback by Chromium. */
const REMOTE_HOST = 'datafor.test';

interface TriedOperation {
  /** The JSON body Swagger UI prefilled (sent as it is), if the operation takes one. */
  offered?: Record<string, unknown>;
  status: string;
  json: Record<string, unknown>;
}

/**
 * One operation's block, opened, in "Try it out" mode, executed with the body exactly as Swagger UI
 * prefilled it: answers that body and the live response.
 */
async function tryItOut(page: Page, operationId: string): Promise<TriedOperation> {
  const block = page.locator(`[id$="-${operationId}"]`);
  await block.locator('.opblock-summary').first().click();
  await block.locator('button', { hasText: 'Try it out' }).click();
  const textarea = block.locator('textarea.body-param__text');
  const offered =
    (await textarea.count()) > 0
      ? (JSON.parse(await textarea.inputValue()) as Record<string, unknown>)
      : undefined;
  await block.locator('button', { hasText: 'Execute' }).click();
  const live = block.locator('.live-responses-table .response').first();
  await live.waitFor({ timeout: ACTION_TIMEOUT });
  const status = (await live.locator('.response-col_status').innerText()).trim();
  const text = await live.locator('.response-col_description pre').first().innerText();
  return { offered, status, json: JSON.parse(text) as Record<string, unknown> };
}

/** The Authorize dialog's block of one security scheme. */
function schemeBlock(page: Page, scheme: string): Locator {
  return page
    .locator('.dialog-ux .modal-ux .auth-container')
    .filter({ has: page.locator('h4 code', { hasText: new RegExp(`^${scheme}$`) }) })
    .first();
}

async function openAuthorize(page: Page): Promise<void> {
  await page.locator('.auth-wrapper button.authorize').click();
}

async function closeAuthorize(page: Page): Promise<void> {
  await page.locator('.dialog-ux .modal-ux button.close-modal').click();
}

async function authorizeBasic(page: Page): Promise<void> {
  await openAuthorize(page);
  const basic = schemeBlock(page, 'basic');
  await basic.locator('input[type="text"]').fill(ADMIN.username);
  await basic.locator('input[type="password"]').fill(ADMIN.password);
  await basic.locator('button', { hasText: 'Authorize' }).click();
  await basic.locator('button', { hasText: 'Logout' }).waitFor({ timeout: ACTION_TIMEOUT });
  await closeAuthorize(page);
}

/** Logs Basic out and authorizes the bearer scheme alone, so requests carry only the token. */
async function authorizeBearerInstead(page: Page, token: string): Promise<void> {
  await openAuthorize(page);
  const basic = schemeBlock(page, 'basic');
  await basic.locator('button', { hasText: 'Logout' }).click();
  await basic.locator('button', { hasText: 'Authorize' }).waitFor({ timeout: ACTION_TIMEOUT });
  const bearer = schemeBlock(page, 'bearer');
  await bearer.locator('input').first().fill(token);
  await bearer.locator('button', { hasText: 'Authorize' }).click();
  await bearer.locator('button', { hasText: 'Logout' }).waitFor({ timeout: ACTION_TIMEOUT });
  await closeAuthorize(page);
}

describe('Swagger UI in Chromium, from another machine over plain HTTP', () => {
  let dataDir: string;
  let profile: string;
  let service: ServiceProcess | undefined;
  let context: BrowserContext | undefined;
  let postgres: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datafor-swagger-ui-'));
    profile = mkdtempSync(join(tmpdir(), 'datafor-chromium-profile-'));
    postgres = POSTGRES_URL ? await createPostgresDatabase() : undefined;
    service = await startServiceProcess({
      dataDir,
      databaseUrl: postgres?.url,
      admin: ADMIN,
    });
    context = await launchChromium(profile, { hosts: [REMOTE_HOST] });
  }, 45_000);

  afterAll(async () => {
    await context?.close();
    if (service) await stopServiceProcess(service);
    await postgres?.drop();
    rmSync(profile, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loads every asset, authorizes with Basic, runs update, generate and user/detail as prefilled, and the token verifies', async () => {
    const page = context!.pages()[0] ?? (await context!.newPage());
    page.setDefaultTimeout(ACTION_TIMEOUT);
    const failed: string[] = [];
    const consoleErrors: string[] = [];
    page.on('requestfailed', (request) =>
      failed.push(`${request.url()}: ${request.failure()?.errorText}`),
    );
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.url()}: ${response.status()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));

    const port = new URL(service!.origin).port;
    const url = `http://${REMOTE_HOST}:${port}/api-docs`;
    try {
      await page.goto(url, { waitUntil: 'load', timeout: ACTION_TIMEOUT });
      // Over plain HTTP from another machine, an upgrade to https fails every asset: say which.
      expect({ url, failed }).toEqual({ url, failed: [] });
      await page.locator('.opblock').first().waitFor();

      await authorizeBasic(page);

      // 1. update, as prefilled: an enabled configuration ERP.
      const updated = await tryItOut(page, 'saveConfiguration');
      expect(updated.offered).toMatchObject({ name: 'ERP', enable: '1' });
      expect(updated).toMatchObject({ status: '200', json: { success: true, msg: 'success' } });
      const secret = String(updated.offered!.secret);
      expect(Buffer.byteLength(secret)).toBeGreaterThanOrEqual(32);

      // 2. generate, as prefilled: its privateKey is the secret update stored.
      const generated = await tryItOut(page, 'generateToken');
      expect(generated.offered).toMatchObject({
        name: 'ERP',
        privateKey: secret,
        payload: { username: 'alice' },
      });
      expect(generated.status).toBe('200');
      expect(generated.json).toMatchObject({ success: true, expire: 86400 });
      const token = String(generated.json.token);
      const { header, claims } = verifyHmacToken(token, secret);
      expect(header).toMatchObject({ alg: 'HS256', kid: 'ERP' });
      expect(claims).toMatchObject({ ERP: 'alice', email: 'alice@example.com' });

      // 3. user/detail with that token as the only credentials: the service signs alice in.
      await authorizeBearerInstead(page, token);
      const detail = await tryItOut(page, 'getCurrentUser');
      expect(detail.offered).toBeUndefined();
      expect(detail.status).toBe('200');
      expect(detail.json).toMatchObject({
        success: true,
        data: { user: { username: 'alice', usertype: 'SYS_Reader' } },
      });

      expect(failed).toEqual([]);
      expect(consoleErrors).toEqual([]);
    } finally {
      mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
  }, 60_000);
});
