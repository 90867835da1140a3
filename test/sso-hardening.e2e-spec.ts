import { signHmacToken } from './support/jwt';
import { ADMIN, SESSION_API, startTestApp, TestApp, TOKEN_API, USER_API } from './support/test-app';

const SECRET = 'hardening-secret-0123456789-abcdefghij';
const DETAIL = `${USER_API}/detail`;

describe('single sign-on, hardened', () => {
  let t: TestApp;
  const now = () => Math.floor(Date.now() / 1000);
  const token = (claims: object, header: object = { alg: 'HS256', typ: 'JWT', kid: 'ERP' }) =>
    signHmacToken(header, claims, SECRET);
  const detail = (jwt: string) =>
    t.inject({ method: 'GET', url: DETAIL, headers: { authorization: `Bearer ${jwt}` } });
  const verify = async (jwt: string) =>
    (await t.admin('POST', `${TOKEN_API}/verify`, { token: jwt })).json();

  beforeAll(async () => {
    t = await startTestApp();
    await t.admin('POST', `${TOKEN_API}/update`, { name: 'ERP', secret: SECRET, enable: '1' });
  });
  afterAll(() => t.close());

  it('answers 401, never 500, to a kid that no configuration can have (NUL, over 64 characters)', async () => {
    for (const kid of ['a\u0000b', 'x'.repeat(4000)]) {
      const response = await detail(
        token({ ERP: 'alice', exp: now() + 60 }, { alg: 'HS256', kid }),
      );
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({
        success: false,
        code: '401',
        msg: expect.stringContaining('unknown configuration'),
      });
    }
  });

  it('refuses a token without exp, and one that would live longer than TOKEN_MAX_EXPIRE', async () => {
    expect((await detail(token({ ERP: 'alice', iat: now() }))).statusCode).toBe(401);
    expect(await verify(token({ ERP: 'alice', iat: now() }))).toMatchObject({
      active: false,
      reason: 'no expiry',
    });
    const tooLong = token({ ERP: 'alice', iat: now(), exp: now() + 2592000 + 3600 });
    expect(await verify(tooLong)).toMatchObject({ active: false, reason: 'lifetime too long' });
    expect((await detail(token({ ERP: 'alice', iat: now(), exp: now() + 600 }))).statusCode).toBe(
      200,
    );
  });

  it('revokes the tokens of the current second with a cut-off of "now", and keeps the cut-off across a delete', async () => {
    const minted = (
      await t.admin('POST', `${TOKEN_API}/generate`, {
        name: 'ERP',
        privateKey: SECRET,
        payload: { username: 'bob' },
      })
    ).json().token;
    expect((await detail(minted)).statusCode).toBe(200);
    expect((await t.admin('POST', `${TOKEN_API}/revoke`, { name: 'ERP' })).statusCode).toBe(200);
    expect((await detail(minted)).statusCode).toBe(401);
    await t.admin('POST', `${TOKEN_API}/delete`, { name: 'ERP' });
    await t.admin('POST', `${TOKEN_API}/update`, { name: 'ERP', secret: SECRET, enable: '1' });
    expect((await detail(minted)).statusCode).toBe(401);
  });
});

describe('sessions end when their user changes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const loginCookie = async (username: string, password: string) => {
    const response = await t.inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      payload: { username, password },
    });
    expect(response.statusCode).toBe(200);
    return String(response.headers['set-cookie']).split(';')[0];
  };
  const list = (cookie: string) =>
    t.inject({ method: 'GET', url: `${TOKEN_API}/list`, headers: { cookie } });

  it('after a password change', async () => {
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'bob',
      password: 'bob-password-1',
      usertype: 'Administrator',
    });
    const cookie = await loginCookie('bob', 'bob-password-1');
    expect((await list(cookie)).statusCode).toBe(200);
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'bob',
      password: 'bob-password-2',
    });
    expect((await list(cookie)).statusCode).toBe(401);
  });

  it('after a type change, and not after a profile or roles edit', async () => {
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'dora',
      password: 'dora-password-1',
      usertype: 'Administrator',
    });
    const cookie = await loginCookie('dora', 'dora-password-1');
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'dora',
      name: 'Dora Explorer',
      email: 'dora@example.com',
      roles: ['Manager'],
      // The type she already has: no change of access.
      usertype: 'ADMINISTRATOR',
    });
    const detail = await t.inject({
      method: 'GET',
      url: `${USER_API}/detail`,
      headers: { cookie },
    });
    expect(detail.json().data.user).toMatchObject({ name: 'Dora Explorer', roles: ['Manager'] });
    expect((await list(cookie)).statusCode).toBe(200);
    await t.admin('POST', `${USER_API}/insertOrUpdate`, { username: 'dora', usertype: 'SYS_Creator' });
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'dora',
      usertype: 'Administrator',
    });
    expect((await list(cookie)).statusCode).toBe(401);
  });

  it('after the user is deleted and another created under the name', async () => {
    const cookie = await loginCookie(ADMIN.username, ADMIN.password);
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'carol',
      password: 'carol-password',
      usertype: 'Administrator',
    });
    const carolCookie = await loginCookie('carol', 'carol-password');
    await t.inject({
      method: 'POST',
      url: `${USER_API}/delete`,
      headers: { cookie },
      payload: { username: 'carol' },
    });
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'carol',
      password: 'other-carol-pw',
      usertype: 'Administrator',
    });
    expect((await list(carolCookie)).statusCode).toBe(401);
  });
});
