/**
 * Issue 17, point 3, in a real browser: Debian's Chromium (see support/chromium.ts) against the
 * built service over plain HTTP under a host name that is not localhost (Chromium sends no
 * Sec-Fetch-* headers there, so only Origin tells a cross-site post apart). The admin signs in
 * through the browser's own Basic prompt (Playwright answers it as the admin would); a page on
 * another origin, served by a second HTTP server on another port, then posts a form that creates
 * an Administrator. The service must refuse it, and also when the browser holds the admin's
 * credentials and sends them with every request (as after a prompt some other page invited).
 * Chromium reaches the service through a recording forwarder, which shows what the browser sent.
 */
import { createServer, type IncomingHttpHeaders, request as forward, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { USER_API } from './support/api-paths';
import { launchChromium } from './support/chromium';
import {
  callService,
  type ServiceProcess,
  startServiceProcess,
  stopServiceProcess,
} from './support/service-process';

const ADMIN = { username: 'admin', password: 'csrf-browser-admin-password' };
const ADMIN_AUTH = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
const SERVICE_HOST = 'datafor.test';
const EVIL_HOST = 'evil.test';
const ACTION_TIMEOUT = 15_000;
/** Cross-site posts fired at once by the attacker's page (Chromium queues them 6 per host). */
const FLOOD = 200;

interface Exchange {
  path: string;
  headers: IncomingHttpHeaders;
  /** The start of the request body (form posts name the user first). */
  body: string;
  status: number;
}

/** Forwards every request to `port` on loopback and records it with the service's status. */
function recordingForwarder(port: number, exchanges: Exchange[]): Server {
  return createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      if (body.length < 200) body += chunk.toString('latin1');
    });
    const upstream = forward(
      {
        host: '127.0.0.1',
        port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (answer) => {
        exchanges.push({
          path: request.url ?? '',
          headers: request.headers,
          body,
          status: answer.statusCode ?? 0,
        });
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

const closeServer = (server: Server | undefined) =>
  new Promise((closed) => (server ? server.close(closed) : closed(undefined)));

/** The attacker's pages: one auto-submitting form, or many such forms at once in frames. */
function attackerPage(serviceOrigin: string, path: string): string {
  const url = new URL(path, 'http://attacker');
  const prefix = url.searchParams.get('prefix') ?? 'forged';
  if (url.pathname === '/form') {
    return `<!doctype html><form method="post" action="${serviceOrigin}${USER_API}/insertOrUpdate">
<input name="username" value="${prefix}"><input name="password" value="forged-password-1">
<input name="usertype" value="Administrator"></form>
<script>document.forms[0].submit()</script>`;
  }
  const frames = Array.from(
    { length: Number(url.searchParams.get('count')) },
    (_, i) => `<iframe src="/form?prefix=${prefix}-${i}"></iframe>`,
  );
  return `<!doctype html>${frames.join('')}`;
}

describe('CSRF in Chromium: the credentials of the browser Basic prompt, used by another site', () => {
  let dataDir: string;
  const profiles: string[] = [];
  const contexts: BrowserContext[] = [];
  let service: ServiceProcess | undefined;
  let attacker: Server | undefined;
  let forwarder: Server | undefined;
  const exchanges: Exchange[] = [];
  let serviceOrigin: string;
  let attackerOrigin: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datafor-csrf-browser-'));
    service = await startServiceProcess({ dataDir, admin: ADMIN });
    forwarder = recordingForwarder(Number(new URL(service.origin).port), exchanges);
    serviceOrigin = `http://${SERVICE_HOST}:${await listen(forwarder)}`;
    attacker = createServer((request, response) => {
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(attackerPage(serviceOrigin, request.url ?? '/'));
    });
    attackerOrigin = `http://${EVIL_HOST}:${await listen(attacker)}`;
  }, 45_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    if (service) await stopServiceProcess(service);
    forwarder?.closeAllConnections();
    await closeServer(forwarder);
    await closeServer(attacker);
    for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * A fresh browser whose admin answers every Basic prompt; `holding` also sends the admin's
   * credentials with every request, as Chromium does from its cache once a prompt was answered
   * (Playwright's extra headers stand in for that cache: the page sets nothing).
   */
  const browser = async (holding: boolean): Promise<Page> => {
    const profile = mkdtempSync(join(tmpdir(), 'datafor-chromium-profile-'));
    profiles.push(profile);
    const context = await launchChromium(profile, {
      hosts: [SERVICE_HOST, EVIL_HOST],
      httpCredentials: ADMIN,
    });
    contexts.push(context);
    if (holding) await context.setExtraHTTPHeaders({ authorization: ADMIN_AUTH });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(ACTION_TIMEOUT);
    return page;
  };
  const usernames = async (): Promise<string[]> => {
    const list = await callService(service!.origin, ADMIN_AUTH, {
      method: 'GET',
      path: `${USER_API}/list`,
      timeoutMs: 10_000,
    });
    expect(list.status).toBe(200);
    return (list.body.data as { username: string }[]).map((user) => user.username);
  };
  /** What the service answered to the posts of users named `prefix...`, and what they carried. */
  const forgedPosts = (prefix: string) =>
    exchanges
      .filter(
        ({ path, body }) =>
          path === `${USER_API}/insertOrUpdate` && body.startsWith(`username=${prefix}`),
      )
      .map(({ headers, status }) => ({
        status,
        authorization: headers.authorization,
        origin: headers.origin,
      }));
  const refused = { status: 403, origin: expect.any(String) };
  /** The attacker's page auto-submits its form (users named `prefix...`): the service answers 403. */
  const expectForgedFormRefused = async (page: Page, prefix: string) => {
    const answer = page.waitForResponse((response) => response.url().endsWith('/insertOrUpdate'));
    await page.goto(`${attackerOrigin}/form?prefix=${prefix}`);
    const forged = await answer;
    expect({ status: forged.status(), body: JSON.parse(await forged.text()) as unknown }).toEqual({
      status: 403,
      body: {
        success: false,
        code: '403',
        msg: expect.stringContaining('a request from another site'),
      },
    });
  };

  it('the admin opens token/list and meets no Basic prompt; a form from another origin then creates no Administrator', async () => {
    const page = await browser(false);
    const list = await page.goto(`${serviceOrigin}/plugin/datafor-modeler/api/token/list`);
    // Playwright answers a Basic prompt with the admin's credentials: a 200 would mean one was shown.
    expect({
      status: list!.status(),
      challenge: await list!.headerValue('www-authenticate'),
      body: JSON.parse(await list!.text()) as unknown,
    }).toEqual({
      status: 401,
      challenge: 'Bearer realm="datafor"',
      body: { success: false, code: '401', msg: expect.any(String) },
    });

    await expectForgedFormRefused(page, 'forged-prompt');
    expect(forgedPosts('forged-prompt')).toEqual([
      { ...refused, origin: attackerOrigin, authorization: undefined },
    ]);
    expect(await usernames()).not.toContain('forged-prompt');
  });

  it("refuses the form when the browser adds the admin's Basic credentials by itself", async () => {
    const page = await browser(true);
    // Signed in: the browser's credentials open the list.
    const list = await page.goto(`${serviceOrigin}/plugin/datafor-modeler/api/token/list`);
    expect(list!.status()).toBe(200);

    await expectForgedFormRefused(page, 'forged-basic');
    // What matters: the browser attached the admin's credentials itself, and the post was refused.
    expect(forgedPosts('forged-basic')).toEqual([
      { status: 403, authorization: ADMIN_AUTH, origin: attackerOrigin },
    ]);
    expect(await usernames()).not.toContain('forged-basic');
  });

  it(`refuses ${FLOOD} such forms posted at once from frames of another origin, and stores none`, async () => {
    const page = await browser(true);
    // 'commit': the frames' posts are what counts, not the page's load.
    await page.goto(`${attackerOrigin}/flood?prefix=forged-flood&count=${FLOOD}`, {
      waitUntil: 'commit',
    });
    const deadline = Date.now() + 60_000;
    while (forgedPosts('forged-flood').length < FLOOD && Date.now() < deadline) {
      await new Promise((wait) => setTimeout(wait, 200));
    }
    const posts = forgedPosts('forged-flood');
    expect(posts.length).toBe(FLOOD);
    expect([...new Set(posts.map((post) => JSON.stringify(post)))]).toEqual([
      JSON.stringify({ status: 403, authorization: ADMIN_AUTH, origin: attackerOrigin }),
    ]);
    expect((await usernames()).filter((name) => name.startsWith('forged-flood'))).toEqual([]);
  }, 90_000);
});
