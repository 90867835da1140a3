import { TokenConfigEntity } from '../src/token/entities/token-config.entity';
import { signHmacToken } from './support/jwt';
import { ADMIN_AUTH, startTestApp, TestApp, TOKEN_API, USER_API } from './support/test-app';

/**
 * `initroles: ["Administrator"]` (issue 7, item 6): whoever holds a configuration's secret signs
 * tokens for any username, so such a configuration would hand out Administrators. `update` refuses
 * it, and provisioning refuses it again for configurations stored before that rule.
 */

const SECRET = 'initroles-suite-secret-0123456789abcdef';
const FORM = 'application/x-www-form-urlencoded';

/** A token the secret's holder signs itself (no mint involved): username under `uid`. */
function selfSigned(config: string, username: string, extra: object = {}): string {
  const iat = Math.floor(Date.now() / 1000);
  return signHmacToken(
    { alg: 'HS256', typ: 'JWT', kid: config },
    { uid: username, iat, exp: iat + 600, ...extra },
    SECRET,
  );
}

describe('initroles naming Administrator', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const update = (body: object) => t.admin('POST', `${TOKEN_API}/update`, body);
  const content = (name: string) => t.admin('GET', `${TOKEN_API}/content?name=${name}`);
  const detail = (token: string) =>
    t.inject({
      method: 'GET',
      url: `${USER_API}/detail`,
      headers: { authorization: `Bearer ${token}` },
    });
  const usersNamed = async (username: string) =>
    (await t.dataSource.query(`SELECT usertype FROM users WHERE username = '${username}'`)) as {
      usertype: string;
    }[];
  const administrators = async () =>
    (await t.dataSource.query("SELECT username FROM users WHERE usertype = 'Administrator'"))
      .length as number;

  const expectInitrolesRefused = (response: { statusCode: number; json(): unknown }) => {
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 400,
      body: {
        success: false,
        code: '400',
        msg: expect.stringContaining('initroles'),
        errors: [{ field: 'initroles', message: expect.stringContaining('Administrator') }],
      },
    });
  };

  it.each([
    ['["Administrator"]', ['Administrator']],
    ['another spelling', ['administrator', 'Sales']],
  ])(
    'refuses to create a configuration whose initroles is %s, storing nothing',
    async (_label, initroles) => {
      const response = await update({ name: 'ADMINS', secret: SECRET, enable: '1', initroles });
      expectInitrolesRefused(response);
      expect((await content('ADMINS')).statusCode).toBe(404);
    },
  );

  it('refuses initroles naming Administrator in a form, as JSON text', async () => {
    const response = await t.inject({
      method: 'POST',
      url: `${TOKEN_API}/update`,
      headers: { authorization: ADMIN_AUTH, 'content-type': FORM },
      payload: new URLSearchParams({
        name: 'ADMINS',
        secret: SECRET,
        initroles: '["Administrator"]',
      }).toString(),
    });
    expectInitrolesRefused(response);
    expect((await content('ADMINS')).statusCode).toBe(404);
  });

  it('refuses to change an existing configuration to Administrator, keeping what is stored', async () => {
    expect(
      (await update({ name: 'ERP', secret: SECRET, initroles: ['SYS_Creator'] })).statusCode,
    ).toBe(200);
    const before = (await content('ERP')).json();
    expectInitrolesRefused(await update({ name: 'ERP', initroles: ['Administrator'] }));
    expect((await content('ERP')).json()).toEqual(before);
  });

  describe('a configuration stored with Administrator before the rule', () => {
    beforeAll(async () => {
      const saved = await update({
        name: 'LEGACY',
        secret: SECRET,
        enable: '1',
        fieldmap: { username: 'uid' },
        initroles: ['SYS_Reader', 'Portal'],
        initpwd: 'legacy-initial-password',
      });
      expect(saved.statusCode).toBe(200);
      // What an older version let `update` store, written straight to the table.
      await t.dataSource
        .getRepository(TokenConfigEntity)
        .update({ name: 'LEGACY' }, { initRoles: ['Administrator', 'Portal'] });
      expect((await content('LEGACY')).json().initroles).toEqual(['Administrator', 'Portal']);
    });

    it('creates no Administrator by token sign-in: 401, and no user stored', async () => {
      const admins = await administrators();
      for (const delivery of ['bearer', 'query'] as const) {
        const token = selfSigned('LEGACY', `eve-${delivery}`);
        const response =
          delivery === 'bearer'
            ? await detail(token)
            : await t.inject({ method: 'GET', url: `${USER_API}/detail?token=${token}` });
        expect({ status: response.statusCode, body: response.json() }).toEqual({
          status: 401,
          body: {
            success: false,
            code: '401',
            msg: expect.stringContaining('would create'),
          },
        });
        expect(await usersNamed(`eve-${delivery}`)).toEqual([]);
      }
      expect(await administrators()).toBe(admins);
    });

    it('creates no Administrator by mint either: 409, and no user stored', async () => {
      const response = await t.admin('POST', `${TOKEN_API}/generate`, {
        name: 'LEGACY',
        privateKey: SECRET,
        payload: { username: 'eve-mint' },
      });
      expect({ status: response.statusCode, body: response.json() }).toEqual({
        status: 409,
        body: {
          success: false,
          code: '409',
          msg: expect.stringContaining('remove Administrator from its initroles'),
        },
      });
      expect(await usersNamed('eve-mint')).toEqual([]);
    });

    it('still signs in a user that exists, unchanged', async () => {
      await t.admin('POST', `${USER_API}/insertOrUpdate`, {
        username: 'known',
        password: 'known-password-1',
        usertype: 'SYS_Reader',
      });
      const response = await detail(selfSigned('LEGACY', 'known'));
      expect(response.statusCode).toBe(200);
      expect(response.json().data.user).toMatchObject({
        username: 'known',
        usertype: 'SYS_Reader',
      });
    });
  });
});
