import { decodeToken, signHmacToken } from './support/jwt';
import {
  ADMIN_AUTH,
  basic,
  SESSION_API,
  startTestApp,
  TestApp,
  TOKEN_API,
  USER_API,
} from './support/test-app';

const SECRET = 'usernames-secret-0123456789-abcdefghij';
const DETAIL = `${USER_API}/detail`;
const PASSWORD = 'amelie-password-1';
/** "Amélie", composed (NFC, as stored) and decomposed (NFD: e + combining acute). */
const NFC = 'Am\u00e9lie';
const NFD = 'Ame\u0301lie';
/** Control and format characters (Unicode Cc and Cf): invisible, or reordering what is shown. */
const INVISIBLE = {
  'U+0085 next line': '\u0085',
  'U+00AD soft hyphen': '\u00ad',
  'U+061C Arabic letter mark': '\u061c',
  'U+200B zero-width space': '\u200b',
  'U+200C zero-width non-joiner': '\u200c',
  'U+200D zero-width joiner': '\u200d',
  'U+202D left-to-right override': '\u202d',
  'U+202E right-to-left override': '\u202e',
  'U+2060 word joiner': '\u2060',
  'U+2066 left-to-right isolate': '\u2066',
  'U+FEFF byte order mark': '\ufeff',
};

describe('usernames', () => {
  let t: TestApp;
  const now = () => Math.floor(Date.now() / 1000);
  /** JSON text written by hand, so that a lone surrogate travels as the \ud800 escape it is. */
  const upsertRaw = (body: string) =>
    t.inject({
      method: 'POST',
      url: `${USER_API}/insertOrUpdate`,
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      payload: body,
    });
  const users = async (): Promise<Array<{ userid: string; username: string }>> =>
    (await t.admin('GET', `${USER_API}/list`)).json().data;
  const detail = (headers: Record<string, string>) =>
    t.inject({ method: 'GET', url: DETAIL, headers });
  const expectFieldRefused = (
    response: { statusCode: number; json(): unknown },
    field: string,
    message: string,
  ) => {
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      success: false,
      code: '400',
      msg: `${field} ${message}`,
      errors: [{ field, message }],
    });
  };

  beforeAll(async () => {
    t = await startTestApp();
    const response = await t.admin('POST', `${TOKEN_API}/update`, {
      name: 'ERP',
      secret: SECRET,
      enable: '1',
    });
    expect(response.statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('refuses a lone surrogate with 400 and stores nothing', async () => {
    const before = await users();
    for (const name of ['bad\\ud800name', 'bad\\udfffname', 'trailing\\ud83d']) {
      expectFieldRefused(
        await upsertRaw(`{"username":"${name}","password":"${PASSWORD}"}`),
        'username',
        'must be well-formed Unicode (no lone surrogates)',
      );
    }
    expect(await users()).toEqual(before);
  });

  it.each(Object.entries(INVISIBLE))(
    'refuses %s wherever a username enters',
    async (_name, char) => {
      const username = `eve${char}admin`;
      const before = await users();
      const message = 'must not contain control or format characters';
      expectFieldRefused(
        await t.admin('POST', `${USER_API}/insertOrUpdate`, { username, password: PASSWORD }),
        'username',
        message,
      );
      expectFieldRefused(
        await t.admin('POST', `${TOKEN_API}/generate`, {
          name: 'ERP',
          privateKey: SECRET,
          payload: { username },
        }),
        'payload.username',
        message,
      );
      expectFieldRefused(
        await t.inject({
          method: 'POST',
          url: `${SESSION_API}/login`,
          payload: { username, password: PASSWORD },
        }),
        'username',
        message,
      );
      expect((await detail({ authorization: basic(username, PASSWORD) })).statusCode).toBe(401);
      const token = signHmacToken(
        { alg: 'HS256', kid: 'ERP' },
        { ERP: username, exp: now() + 600 },
        SECRET,
      );
      expect((await detail({ authorization: `Bearer ${token}` })).statusCode).toBe(401);
      expect((await t.admin('POST', `${TOKEN_API}/verify`, { token })).json()).toEqual({
        success: true,
        active: false,
        reason: 'no username',
      });
      expect(await users()).toEqual(before);
    },
  );

  it('stores a decomposed (NFD) name as NFC, and finds the one user by either form', async () => {
    const created = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: NFD,
      password: PASSWORD,
    });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toEqual({ success: true, username: NFC });
    const updated = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: NFC,
      name: 'Amélie Poulain',
    });
    expect(updated.statusCode).toBe(200);
    const listed = (await users()).filter((user) => user.username.normalize('NFC') === NFC);
    expect(listed).toEqual([expect.objectContaining({ username: NFC, name: 'Amélie Poulain' })]);
    const { userid } = listed[0];

    for (const form of [NFC, NFD]) {
      const basicDetail = await detail({ authorization: basic(form, PASSWORD) });
      expect(basicDetail.statusCode).toBe(200);
      expect(basicDetail.json().data.user).toMatchObject({ userid, username: NFC });
      const login = await t.inject({
        method: 'POST',
        url: `${SESSION_API}/login`,
        payload: { username: form, password: PASSWORD },
      });
      expect(login.statusCode).toBe(200);
    }

    const minted = await t.admin('POST', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: NFD },
    });
    expect(minted.statusCode).toBe(200);
    expect(decodeToken(minted.json().token).claims.ERP).toBe(NFC);
    const signedByErp = signHmacToken(
      { alg: 'HS256', kid: 'ERP' },
      { ERP: NFD, iat: now(), exp: now() + 600 },
      SECRET,
    );
    for (const token of [minted.json().token as string, signedByErp]) {
      const signedIn = await detail({ authorization: `Bearer ${token}` });
      expect(signedIn.statusCode).toBe(200);
      expect(signedIn.json().data.user).toMatchObject({ userid, username: NFC });
    }
    expect((await users()).filter((user) => user.username.normalize('NFC') === NFC)).toHaveLength(
      1,
    );

    const deleted = await t.admin('POST', `${USER_API}/delete`, { username: NFC });
    expect(deleted.statusCode).toBe(200);
    expect((await users()).map((user) => user.username.normalize('NFC'))).not.toContain(NFC);
  });

  it('creates a user first seen in a token under its NFC name', async () => {
    const token = signHmacToken(
      { alg: 'HS256', kid: 'ERP' },
      { ERP: 'Zoe\u0308', iat: now(), exp: now() + 600 },
      SECRET,
    );
    const signedIn = await detail({ authorization: `Bearer ${token}` });
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.json().data.user.username).toBe('Zo\u00eb');
    expect((await users()).map((user) => user.username)).toContain('Zo\u00eb');
    expect((await users()).map((user) => user.username)).not.toContain('Zoe\u0308');
  });
});
