import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signHmacToken } from './support/jwt';
import { ADMIN, SESSION_API, startTestApp, TestApp, TOKEN_API, USER_API } from './support/test-app';

const SECRET = 'at-rest-secret-never-in-clear-0123456789';
const INIT_PASSWORD = 'at-rest-initial-password';
const USER_PASSWORD = 'at-rest-user-password';
const PAYLOAD_PASSWORD = 'at-rest-payload-password';

/**
 * A whole session of use (configurations, mints, single sign-on, sessions, users, revocation,
 * introspection, audit), then a grep of everything the service wrote: the data directory's files,
 * every table, and the debug log. No secret, password, cookie or token may appear in clear text.
 */
describe('after a full run, nothing radioactive at rest', () => {
  let t: TestApp;
  const radioactive: string[] = [
    SECRET,
    INIT_PASSWORD,
    USER_PASSWORD,
    PAYLOAD_PASSWORD,
    ADMIN.password,
  ];

  beforeAll(async () => {
    t = await startTestApp({ captureLogs: true });
    const ok = async (response: Promise<{ statusCode: number }>) =>
      expect((await response).statusCode).toBe(200);
    await ok(
      t.admin('POST', `${TOKEN_API}/update`, {
        name: 'ERP',
        secret: SECRET,
        enable: '1',
        initpwd: INIT_PASSWORD,
      }),
    );
    await ok(
      t.admin('POST', `${USER_API}/insertOrUpdate`, { username: 'bob', password: USER_PASSWORD }),
    );
    const minted = await t.admin('POST', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'carol', password: PAYLOAD_PASSWORD },
    });
    const token: string = minted.json().token;
    const now = Math.floor(Date.now() / 1000);
    const selfSigned = signHmacToken(
      { alg: 'HS256', typ: 'JWT', kid: 'ERP' },
      { ERP: 'dave', iat: now, exp: now + 60 },
      SECRET,
    );
    radioactive.push(token, selfSigned);
    await ok(
      t.inject({ method: 'GET', url: `/plugin/datafor-modeler/api/user/detail?token=${token}` }),
    );
    await ok(
      t.inject({
        method: 'GET',
        url: '/plugin/datafor-modeler/api/user/detail',
        headers: { authorization: `Bearer ${selfSigned}` },
      }),
    );
    const login = await t.inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      payload: { username: 'bob', password: USER_PASSWORD },
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0].split('=')[1];
    radioactive.push(cookie);
    await ok(
      t.inject({
        method: 'POST',
        url: `${SESSION_API}/logout`,
        headers: { cookie: `JSESSIONID=${cookie}` },
      }),
    );
    await ok(t.admin('POST', `${TOKEN_API}/verify`, { token }));
    await ok(t.admin('POST', `${TOKEN_API}/revoke`, { name: 'ERP' }));
    await ok(t.admin('GET', '/plugin/datafor-modeler/api/audit/list'));
    await t.inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      payload: { username: 'bob', password: `${USER_PASSWORD}-wrong` },
    });
  });
  afterAll(() => t.close());

  const leaks = (text: string) =>
    radioactive.filter((value) => text.includes(value)).map((value) => value.slice(0, 8));

  it('keeps none in the data directory', () => {
    const files = readdirSync(t.dataDir);
    expect(files).toContain('secrets.key');
    for (const file of files) {
      const text = readFileSync(join(t.dataDir, file)).toString('latin1');
      expect({ file, leaks: leaks(text) }).toEqual({ file, leaks: [] });
    }
  });

  it('keeps none in any table', async () => {
    for (const entity of t.dataSource.entityMetadatas) {
      const rows = JSON.stringify(await t.dataSource.query(`SELECT * FROM ${entity.tableName}`));
      expect({ table: entity.tableName, leaks: leaks(rows) }).toEqual({
        table: entity.tableName,
        leaks: [],
      });
    }
  });

  it('writes none to the debug log', () => {
    const text = t.logs.join('');
    expect(text).toContain('request completed');
    expect(leaks(text)).toEqual([]);
  });
});
