import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { ADMIN, SESSION_API, startTestApp, TestApp, TOKEN_API, USER_API } from './support/test-app';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const SUCCESS_NEW = { success: true, data: '1', msg: 'success' };
const SUCCESS_AGAIN = { success: true, data: '2', msg: 'success' };

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

function setCookies(response: LightMyRequestResponse): string[] {
  const header = response.headers['set-cookie'];
  return header === undefined ? [] : Array.isArray(header) ? header : [String(header)];
}

/** The JSESSIONID Set-Cookie line of a response: its value and its attributes in lower case. */
function sessionCookie(response: LightMyRequestResponse): { value: string; attributes: string[] } {
  const line = setCookies(response).find((cookie) => cookie.startsWith('JSESSIONID='));
  if (!line) throw new Error(`no JSESSIONID cookie in ${JSON.stringify(setCookies(response))}`);
  const [pair, ...attributes] = line.split(';').map((part) => part.trim());
  return {
    value: decodeURIComponent(pair.slice('JSESSIONID='.length)),
    attributes: attributes.map((attribute) => attribute.toLowerCase()),
  };
}

describe('session login and logout', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    for (const [username, usertype] of [
      ['reader', 'SYS_Reader'],
      ['frozen', 'SYS_Reader'],
      ['paused', 'SYS_Creator'],
    ]) {
      const created = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
        username,
        password: `${username}-password`,
        usertype,
      });
      expect(created.statusCode).toBe(200);
    }
  });
  afterAll(() => t.close());

  const login = (
    credentials: { username?: string; password?: string },
    contentType = JSON_TYPE,
    cookie?: string,
  ) =>
    t.inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      headers: {
        'content-type': contentType,
        ...(cookie === undefined ? {} : { cookie: `JSESSIONID=${cookie}` }),
      },
      payload:
        contentType === FORM
          ? new URLSearchParams(credentials as Record<string, string>).toString()
          : JSON.stringify(credentials),
    });
  const loginAsAdmin = async () => sessionCookie(await login(ADMIN)).value;
  const logout = (cookie: string) =>
    t.inject({
      method: 'POST',
      url: `${SESSION_API}/logout`,
      headers: { cookie: `JSESSIONID=${cookie}` },
    });
  const withCookie = (url: string, cookie: string) =>
    t.inject({ method: 'GET', url, headers: { cookie: `JSESSIONID=${cookie}` } });
  const sessionRows = (): Promise<Record<string, unknown>[]> =>
    t.dataSource.query('SELECT * FROM sessions');

  it.each([
    ['form-urlencoded', FORM],
    ['JSON', JSON_TYPE],
  ])(
    'opens a session from %s: answers data "1" and sets an HttpOnly, SameSite=Lax JSESSIONID on /',
    async (_name, contentType) => {
      const response = await login(ADMIN, contentType);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(SUCCESS_NEW);
      const cookie = sessionCookie(response);
      expect(cookie.value.length).toBeGreaterThanOrEqual(32);
      expect(cookie.attributes).toEqual(
        expect.arrayContaining(['httponly', 'samesite=lax', 'path=/']),
      );
    },
  );

  it('gives every login its own random cookie value', async () => {
    const first = await loginAsAdmin();
    const second = await loginAsAdmin();
    expect(first).not.toBe(second);
  });

  it('authenticates admin endpoints with the cookie alone: token/list answers 200', async () => {
    const cookie = await loginAsAdmin();
    const response = await withCookie(`${TOKEN_API}/list`, cookie);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true, data: [] });
    const detail = await withCookie(`${USER_API}/detail`, cookie);
    expect(detail.json().data.user).toMatchObject({
      username: ADMIN.username,
      usertype: 'Administrator',
    });
  });

  it.each([
    ['form-urlencoded', FORM],
    ['JSON', JSON_TYPE],
  ])(
    'answers data "2" to a %s login whose cookie already holds a live session, and opens no other',
    async (_name, contentType) => {
      const cookie = await loginAsAdmin();
      const sessionsBefore = (await sessionRows()).length;
      const again = await login(ADMIN, contentType, cookie);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual(SUCCESS_AGAIN);
      expect((await sessionRows()).length).toBe(sessionsBefore);
      expect((await withCookie(`${TOKEN_API}/list`, cookie)).statusCode).toBe(200);
    },
  );

  it.each([
    ['a wrong password', { username: ADMIN.username, password: 'not-the-admin-password' }],
    ['an unknown user', { username: 'nobody', password: 'whatever-password' }],
  ])(
    'answers 401 with the envelope and WWW-Authenticate to %s, and sets no cookie',
    async (_name, credentials) => {
      const sessionsBefore = (await sessionRows()).length;
      for (const contentType of [FORM, JSON_TYPE]) {
        const response = await login(credentials, contentType);
        expect(response.statusCode).toBe(401);
        expect(response.headers['www-authenticate']).toBe('Basic realm="datafor"');
        expect(response.json()).toEqual({ success: false, code: '401', msg: expect.any(String) });
        expect(response.body).not.toContain(credentials.password);
        expect(setCookies(response)).toEqual([]);
      }
      expect((await sessionRows()).length).toBe(sessionsBefore);
    },
  );

  it('answers 401 to a wrong password even when the cookie holds a live session of that user', async () => {
    const cookie = await loginAsAdmin();
    const response = await login(
      { username: ADMIN.username, password: 'not-the-admin-password' },
      JSON_TYPE,
      cookie,
    );
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ success: false, code: '401' });
  });

  it('answers 401 to a disabled user even when the cookie holds its live session', async () => {
    const cookie = sessionCookie(await login({ username: 'paused', password: 'paused-password' }));
    await t.admin('POST', `${USER_API}/insertOrUpdate`, { username: 'paused', enabled: '0' });
    const response = await login(
      { username: 'paused', password: 'paused-password' },
      JSON_TYPE,
      cookie.value,
    );
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ success: false, code: '401' });
  });

  it('answers 400 naming the field to a login without a password, and sets no cookie', async () => {
    const response = await login({ username: ADMIN.username });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      success: false,
      code: '400',
      errors: [expect.objectContaining({ field: 'password' })],
    });
    expect(setCookies(response)).toEqual([]);
  });

  it('ends the session on logout: the cookie then gets 401 on token/list and user/detail answers data {}', async () => {
    const cookie = await loginAsAdmin();
    expect((await withCookie(`${TOKEN_API}/list`, cookie)).statusCode).toBe(200);

    const response = await logout(cookie);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ success: true });

    const list = await withCookie(`${TOKEN_API}/list`, cookie);
    expect(list.statusCode).toBe(401);
    expect(list.headers['www-authenticate']).toBe('Basic realm="datafor"');
    expect(list.json()).toMatchObject({ success: false, code: '401' });
    const detail = await withCookie(`${USER_API}/detail`, cookie);
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toEqual({ success: true, data: {} });
    expect((await sessionRows()).filter((row) => row.id_hash === sha256Hex(cookie))).toHaveLength(
      0,
    );
  });

  it('opens a new session (data "1") when the cookie names a session that has ended', async () => {
    const cookie = await loginAsAdmin();
    await logout(cookie);
    const response = await login(ADMIN, JSON_TYPE, cookie);
    expect(response.json()).toEqual(SUCCESS_NEW);
    expect(sessionCookie(response).value).not.toBe(cookie);
  });

  it('stores no raw cookie value in the sessions table, only its sha256 in hex', async () => {
    const cookie = await loginAsAdmin();
    const rows = await sessionRows();
    const own = rows.filter((row) => row.id_hash === sha256Hex(cookie));
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({ username: ADMIN.username });
    for (const row of rows) expect(row.id_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(cookie);
  });

  it('treats an unknown cookie as anonymous', async () => {
    const forged = 'A'.repeat(43);
    expect((await withCookie(`${TOKEN_API}/list`, forged)).statusCode).toBe(401);
    expect((await withCookie(`${USER_API}/detail`, forged)).json()).toEqual({
      success: true,
      data: {},
    });
  });

  it('lets a session of a user who is not an Administrator read user/detail, but answers 403 on token/list', async () => {
    const cookie = sessionCookie(
      await login({ username: 'reader', password: 'reader-password' }, FORM),
    ).value;
    const detail = await withCookie(`${USER_API}/detail`, cookie);
    expect(detail.json().data.user).toMatchObject({ username: 'reader', usertype: 'SYS_Reader' });
    const list = await withCookie(`${TOKEN_API}/list`, cookie);
    expect(list.statusCode).toBe(403);
    expect(list.json()).toMatchObject({ success: false, code: '403' });
  });

  it('stops a session from authenticating at once when its user is disabled', async () => {
    const cookie = sessionCookie(
      await login({ username: 'frozen', password: 'frozen-password' }),
    ).value;
    expect((await withCookie(`${USER_API}/detail`, cookie)).json().data.user.username).toBe(
      'frozen',
    );
    await t.admin('POST', `${USER_API}/insertOrUpdate`, { username: 'frozen', enabled: '0' });
    expect((await withCookie(`${USER_API}/detail`, cookie)).json()).toEqual({
      success: true,
      data: {},
    });
  });
});
