import { signHmacToken } from './support/jwt';
import { startTestApp, TestApp, TOKEN_API, USER_API } from './support/test-app';

const SECRET = 'header-checks-secret-0123456789-abcdef';
const DETAIL = `${USER_API}/detail`;
const HEADER = { alg: 'HS256', typ: 'JWT', kid: 'ERP' };

/** Tokens signed independently (node:crypto), as an ERP holding the secret would sign them. */
describe('token header and iat checks', () => {
  let t: TestApp;
  const now = () => Math.floor(Date.now() / 1000);
  const token = (claims: object, header: object = HEADER) => signHmacToken(header, claims, SECRET);
  const detail = (jwt: string) =>
    t.inject({ method: 'GET', url: DETAIL, headers: { authorization: `Bearer ${jwt}` } });
  const verify = async (jwt: string) =>
    (await t.admin('POST', `${TOKEN_API}/verify`, { token: jwt })).json();
  const expectRefused = async (jwt: string, reason: string) => {
    const response = await detail(jwt);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      success: false,
      code: '401',
      msg: `the token is not valid: ${reason}`,
    });
    expect(await verify(jwt)).toEqual({ success: true, active: false, reason });
  };

  beforeAll(async () => {
    t = await startTestApp();
    for (const name of ['ERP', 'CUT']) {
      const response = await t.admin('POST', `${TOKEN_API}/update`, {
        name,
        secret: SECRET,
        enable: '1',
      });
      expect(response.statusCode).toBe(200);
    }
  });
  afterAll(() => t.close());

  it('refuses a crit header, whatever extension it names and however it is written (RFC 7515 4.1.11)', async () => {
    const claims = { ERP: 'alice', iat: now(), exp: now() + 600 };
    expect((await detail(token(claims))).statusCode).toBe(200);
    for (const crit of [['x-unknown'], ['b64'], ['exp'], [], 'b64', null, {}]) {
      await expectRefused(token(claims, { ...HEADER, crit }), 'unsupported critical header');
    }
  });

  it('refuses an iat that is not a number', async () => {
    for (const iat of [String(now()), null, true, [now()]]) {
      await expectRefused(token({ ERP: 'alice', iat, exp: now() + 600 }), 'iat not a number');
    }
  });

  it('refuses an iat later than now plus the clock leeway, and accepts one within it', async () => {
    await expectRefused(
      token({ ERP: 'alice', iat: now() + 3600, exp: now() + 7200 }),
      'issued in the future',
    );
    await expectRefused(
      token({ ERP: 'alice', iat: now() + 60, exp: now() + 600 }),
      'issued in the future',
    );
    const withinLeeway = token({ ERP: 'alice', iat: now() + 5, exp: now() + 600 });
    expect((await detail(withinLeeway)).statusCode).toBe(200);
    expect(await verify(withinLeeway)).toMatchObject({ active: true, username: 'alice' });
  });

  it('keeps a cut-off revocation from being outlived by a future iat; a token without iat counts as issued before it', async () => {
    const claims = { CUT: 'bob', exp: now() + 600 };
    const withoutIat = token(claims, { ...HEADER, kid: 'CUT' });
    const future = token({ ...claims, iat: now() + 3600 }, { ...HEADER, kid: 'CUT' });
    expect((await detail(withoutIat)).statusCode).toBe(200);
    const revoke = await t.admin('POST', `${TOKEN_API}/revoke`, { name: 'CUT' });
    expect(revoke.statusCode).toBe(200);
    await expectRefused(withoutIat, 'revoked');
    await expectRefused(future, 'issued in the future');
  });
});
