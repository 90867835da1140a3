import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_PASSWORD_FILE } from '../src/app/auth/admin-bootstrap.service';
import { UserEntity } from '../src/users/entities/user.entity';
import { ADMIN, ADMIN_AUTH, basic, startTestApp, TestApp, USER_API } from './support/test-app';

const ROLE_TYPES_URL = '/plugin/datafor-modeler/api/roles/types';
const FORM = 'application/x-www-form-urlencoded';

const upsert = (t: TestApp, body: object) => t.admin('POST', `${USER_API}/insertOrUpdate`, body);
const remove = (t: TestApp, username: string) =>
  t.admin('POST', `${USER_API}/delete`, { username });
const postForm = (
  t: TestApp,
  path: string,
  fields: [string, string][],
  authorization = ADMIN_AUTH,
) =>
  t.inject({
    method: 'POST',
    url: `${USER_API}/${path}`,
    headers: { authorization, 'content-type': FORM },
    payload: new URLSearchParams(fields).toString(),
  });
const detail = (t: TestApp, authorization?: string) =>
  t.inject({
    method: 'GET',
    url: `${USER_API}/detail`,
    headers: authorization ? { authorization } : {},
  });
const listAs = (t: TestApp, authorization: string) =>
  t.inject({ method: 'GET', url: `${USER_API}/list`, headers: { authorization } });
const findUser = (t: TestApp, username: string) =>
  t.dataSource.getRepository(UserEntity).findOneBy({ username });

/** Every row of every table of the service, as text: what a reader of the database sees. */
async function everyStoredRow(t: TestApp): Promise<string> {
  const tables = t.dataSource.entityMetadatas.map((metadata) => metadata.tableName);
  const rows = await Promise.all(
    tables.map((table) => t.dataSource.query(`SELECT * FROM "${table}"`)),
  );
  return JSON.stringify(rows);
}

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
  return [];
}

describe('the bootstrap Administrator and stored passwords', () => {
  it('without ADMIN_PASSWORD gets a random password in an owner-only file that the log names, never the password', async () => {
    const t = await startTestApp({ env: { ADMIN_PASSWORD: '' }, captureLogs: true });
    try {
      expect(t.settings.adminPassword).toBeUndefined();
      const file = join(t.dataDir, ADMIN_PASSWORD_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const password = readFileSync(file, 'utf8').trim();
      expect(password.length).toBeGreaterThanOrEqual(16);
      expect(password).not.toBe(ADMIN.password);
      const response = await detail(t, basic(ADMIN.username, password));
      expect(response.statusCode).toBe(200);
      expect(response.json().data.user).toMatchObject({
        username: ADMIN.username,
        usertype: 'Administrator',
      });
      expect((await detail(t, ADMIN_AUTH)).statusCode).toBe(401);
      const logs = t.logs.join('');
      expect(logs).toContain(file);
      expect(logs).not.toContain(password);
      expect(await everyStoredRow(t)).not.toContain(password);
      expect((await findUser(t, ADMIN.username))?.passwordHash).toMatch(/^scrypt\$/);
    } finally {
      await t.close();
    }
  });

  it('is created from ADMIN_USERNAME and ADMIN_PASSWORD as an enabled Administrator with a scrypt hash', async () => {
    const t = await startTestApp();
    try {
      const admin = await findUser(t, ADMIN.username);
      expect(admin).toMatchObject({ usertype: 'Administrator', enabled: true });
      expect(admin?.passwordHash).toMatch(/^scrypt\$/);
      expect(admin?.passwordHash).not.toContain(ADMIN.password);
      expect((await detail(t, ADMIN_AUTH)).json().data.user.usertype).toBe('Administrator');
    } finally {
      await t.close();
    }
  });

  it('takes its username from ADMIN_USERNAME', async () => {
    const t = await startTestApp({ env: { ADMIN_USERNAME: 'root' } });
    try {
      expect(await findUser(t, 'root')).toMatchObject({ usertype: 'Administrator' });
      expect(await findUser(t, ADMIN.username)).toBeNull();
      const response = await detail(t, basic('root', ADMIN.password));
      expect(response.json().data.user).toMatchObject({ username: 'root' });
    } finally {
      await t.close();
    }
  });

  it('is created only on a first start: a restart with another ADMIN_PASSWORD keeps the stored one', async () => {
    const first = await startTestApp();
    await first.close({ keepData: true });
    const second = await startTestApp({
      attach: first.stored,
      env: { ADMIN_PASSWORD: 'another-admin-password' },
    });
    try {
      expect(await second.dataSource.getRepository(UserEntity).countBy({})).toBe(1);
      expect((await detail(second, ADMIN_AUTH)).statusCode).toBe(200);
      expect(
        (await detail(second, basic(ADMIN.username, 'another-admin-password'))).statusCode,
      ).toBe(401);
    } finally {
      await second.close();
    }
  });

  it('writes no password file on a restart without ADMIN_PASSWORD once an Administrator exists', async () => {
    const first = await startTestApp();
    await first.close({ keepData: true });
    const second = await startTestApp({ attach: first.stored, env: { ADMIN_PASSWORD: '' } });
    try {
      expect(existsSync(join(second.dataDir, ADMIN_PASSWORD_FILE))).toBe(false);
      expect((await detail(second, ADMIN_AUTH)).statusCode).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('stores no password in clear text, in the users table or anywhere else', async () => {
    const t = await startTestApp();
    try {
      const passwords = ['nina-password-1', 'nina-password-2', 'otto-form-password'];
      await upsert(t, { username: 'nina', password: passwords[0] });
      await upsert(t, { username: 'nina', password: passwords[1] });
      await postForm(t, 'insertOrUpdate', [
        ['username', 'otto'],
        ['password', passwords[2]],
      ]);
      const users: { password_hash: string | null }[] =
        await t.dataSource.query('SELECT * FROM users');
      expect(users).toHaveLength(3);
      for (const user of users) expect(user.password_hash).toMatch(/^scrypt\$/);
      const stored = await everyStoredRow(t);
      for (const password of [...passwords, ADMIN.password]) expect(stored).not.toContain(password);
    } finally {
      await t.close();
    }
  });
});

describe('GET /user/detail', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    const created = await upsert(t, {
      username: 'alice',
      password: 'alice-password',
      name: 'Alice A',
      email: 'alice@example.com',
      usertype: 'sys_creator',
      roles: ['Manager', 'Sales'],
    });
    expect(created.statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('answers the Basic caller in the shape of the contract, user type in canonical case', async () => {
    const response = await detail(t, basic('alice', 'alice-password'));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      success: true,
      data: {
        user: {
          userid: expect.stringMatching(/^[0-9a-f-]{36}$/),
          username: 'alice',
          name: 'Alice A',
          email: 'alice@example.com',
          enabled: '1',
          usertype: 'SYS_Creator',
          roles: ['Manager', 'Sales'],
        },
      },
    });
  });

  it('answers the bootstrap Administrator as Administrator', async () => {
    const response = await detail(t, ADMIN_AUTH);
    expect(response.json().data.user).toMatchObject({
      username: ADMIN.username,
      usertype: 'Administrator',
      enabled: '1',
    });
  });

  it('never answers a password or its hash', async () => {
    const response = await detail(t, basic('alice', 'alice-password'));
    expect(response.statusCode).toBe(200);
    expect(keysOf(response.json()).filter((key) => /pass|hash/i.test(key))).toEqual([]);
    expect(response.body).not.toContain('scrypt$');
    expect(response.body).not.toContain('alice-password');
  });

  it('answers {"success":true,"data":{}} to an anonymous caller', async () => {
    const response = await detail(t);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true, data: {} });
  });

  it('answers 401 with the envelope and the Basic challenge to a wrong password', async () => {
    const response = await detail(t, basic('alice', 'not-alice-password'));
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic realm="datafor"');
    expect(response.json()).toMatchObject({ success: false, code: '401' });
  });
});

describe('POST /user/insertOrUpdate', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('creates a user from JSON and answers {"success":true,"username":...}', async () => {
    const response = await upsert(t, {
      username: 'bob',
      password: 'bob-password',
      name: 'Bob B',
      email: 'bob@example.com',
      mobile: '+1 555 0100',
      dept: 'Sales',
      title: 'Rep',
      company: 'ACME',
      dob: '1990-01-01',
      usertype: 'SYS_Creator',
      roles: ['Manager'],
      enabled: '1',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true, username: 'bob' });
    expect(await findUser(t, 'bob')).toMatchObject({
      name: 'Bob B',
      email: 'bob@example.com',
      mobile: '+1 555 0100',
      dept: 'Sales',
      title: 'Rep',
      company: 'ACME',
      dob: '1990-01-01',
      usertype: 'SYS_Creator',
      roles: ['Manager'],
      enabled: true,
    });
    expect((await detail(t, basic('bob', 'bob-password'))).statusCode).toBe(200);
  });

  it('creates a SYS_Reader, enabled, with no roles when only username and password are given', async () => {
    expect((await upsert(t, { username: 'plain', password: 'plain-password' })).statusCode).toBe(
      200,
    );
    expect(await findUser(t, 'plain')).toMatchObject({
      usertype: 'SYS_Reader',
      roles: [],
      enabled: true,
    });
  });

  it('creates a user from a form, with roles as a string joined with & and enabled "0"', async () => {
    const response = await postForm(t, 'insertOrUpdate', [
      ['username', 'formuser'],
      ['password', 'formuser-password'],
      ['name', 'Form User'],
      ['usertype', 'SYS_CREATOR'],
      ['roles', 'Manager&Sales'],
      ['enabled', '0'],
    ]);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true, username: 'formuser' });
    expect(await findUser(t, 'formuser')).toMatchObject({
      name: 'Form User',
      usertype: 'SYS_Creator',
      roles: ['Manager', 'Sales'],
      enabled: false,
    });
  });

  it('accepts roles repeated in a form as an array', async () => {
    const response = await postForm(t, 'insertOrUpdate', [
      ['username', 'repeated'],
      ['password', 'repeated-password'],
      ['roles', 'Manager'],
      ['roles', 'Auditor'],
    ]);
    expect(response.statusCode).toBe(200);
    expect((await findUser(t, 'repeated'))?.roles).toEqual(['Manager', 'Auditor']);
  });

  it.each([
    ['administrator', 'Administrator'],
    ['ADMINISTRATOR', 'Administrator'],
    ['SYS_CREATOR', 'SYS_Creator'],
    ['sys_creator', 'SYS_Creator'],
    ['Sys_Reader', 'SYS_Reader'],
  ])('takes the user type %s in any letter case and answers it as %s', async (given, canonical) => {
    const username = `type-${given}`;
    const response = await upsert(t, { username, password: 'typed-password', usertype: given });
    expect(response.statusCode).toBe(200);
    expect((await findUser(t, username))?.usertype).toBe(canonical);
    const listed = (await listAs(t, ADMIN_AUTH))
      .json()
      .data.find((user: { username: string }) => user.username === username);
    expect(listed.usertype).toBe(canonical);
    const own = await detail(t, basic(username, 'typed-password'));
    expect(own.json().data.user.usertype).toBe(canonical);
  });

  it('refuses to create a user without a password (400 naming the field) and creates nobody', async () => {
    const response = await upsert(t, { username: 'nopass', name: 'No Pass' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      success: false,
      code: '400',
      errors: [expect.objectContaining({ field: 'password' })],
    });
    expect(await findUser(t, 'nopass')).toBeNull();
  });

  it('changes only the fields given on update, and keeps the password', async () => {
    await upsert(t, {
      username: 'carol',
      password: 'carol-password',
      name: 'Carol C',
      email: 'carol@example.com',
      dept: 'Ops',
      usertype: 'SYS_Creator',
      roles: ['Manager'],
    });
    const before = await findUser(t, 'carol');
    const response = await upsert(t, { username: 'carol', email: 'carol@new.example.com' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true, username: 'carol' });
    expect(await findUser(t, 'carol')).toEqual({
      ...before,
      email: 'carol@new.example.com',
      lastModifiedDate: expect.any(Number),
    });
    expect((await detail(t, basic('carol', 'carol-password'))).statusCode).toBe(200);
  });

  it('replaces the roles and the user type when they are given on update', async () => {
    await upsert(t, { username: 'dora', password: 'dora-password', roles: ['Manager', 'Sales'] });
    await upsert(t, { username: 'dora', usertype: 'sys_creator', roles: ['Auditor'] });
    expect(await findUser(t, 'dora')).toMatchObject({
      usertype: 'SYS_Creator',
      roles: ['Auditor'],
    });
  });

  it('disables with enabled "0" and enables again with "1"', async () => {
    await upsert(t, { username: 'erin', password: 'erin-password' });
    expect((await upsert(t, { username: 'erin', enabled: '0' })).statusCode).toBe(200);
    expect((await findUser(t, 'erin'))?.enabled).toBe(false);
    expect((await detail(t, basic('erin', 'erin-password'))).statusCode).toBe(401);
    expect((await upsert(t, { username: 'erin', enabled: '1' })).statusCode).toBe(200);
    expect((await findUser(t, 'erin'))?.enabled).toBe(true);
    expect((await detail(t, basic('erin', 'erin-password'))).statusCode).toBe(200);
  });

  it.each([
    [{ usertype: 'SuperUser' }, 'usertype'],
    [{ enabled: 'yes' }, 'enabled'],
    [{ roles: [1, 2] }, 'roles'],
    [{ email: 42 }, 'email'],
    [{ unknownField: 'x' }, 'unknownField'],
  ])('refuses %p on update with a 400 naming %s, and changes nothing', async (bad, field) => {
    await upsert(t, { username: 'frank', password: 'frank-password', name: 'Frank' });
    const before = await findUser(t, 'frank');
    const response = await upsert(t, { username: 'frank', name: 'Changed', ...bad });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ field })]),
    );
    expect(await findUser(t, 'frank')).toEqual(before);
  });

  it('answers 401 with the Basic challenge to an anonymous caller and creates nobody', async () => {
    const response = await t.inject({
      method: 'POST',
      url: `${USER_API}/insertOrUpdate`,
      payload: { username: 'anon-made', password: 'anon-password' },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic realm="datafor"');
    expect(await findUser(t, 'anon-made')).toBeNull();
  });

  it('answers 403 to a caller who is not an Administrator and changes nothing', async () => {
    await upsert(t, { username: 'creator', password: 'creator-password', usertype: 'SYS_Creator' });
    const response = await t.inject({
      method: 'POST',
      url: `${USER_API}/insertOrUpdate`,
      headers: { authorization: basic('creator', 'creator-password') },
      payload: { username: 'creator', usertype: 'Administrator' },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ success: false, code: '403' });
    expect((await findUser(t, 'creator'))?.usertype).toBe('SYS_Creator');
  });
});

describe('the last enabled Administrator', () => {
  let t: TestApp;

  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(() => t.close());

  const enabledAdministrators = async () =>
    (await t.dataSource.getRepository(UserEntity).findBy({ usertype: 'Administrator' }))
      .filter((user) => user.enabled)
      .map((user) => user.username)
      .sort();

  it('cannot be deleted (409), and stays', async () => {
    const response = await remove(t, ADMIN.username);
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ success: false, code: '409' });
    expect(await enabledAdministrators()).toEqual([ADMIN.username]);
  });

  it('cannot be demoted through insertOrUpdate (409), and nothing of that request is stored', async () => {
    const before = await findUser(t, ADMIN.username);
    const response = await upsert(t, {
      username: ADMIN.username,
      usertype: 'sys_reader',
      name: 'Demoted',
    });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ success: false, code: '409' });
    expect(await findUser(t, ADMIN.username)).toEqual(before);
  });

  it('cannot be disabled through insertOrUpdate (409), and still signs in', async () => {
    const response = await upsert(t, { username: ADMIN.username, enabled: '0' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ success: false, code: '409' });
    expect(await enabledAdministrators()).toEqual([ADMIN.username]);
    expect((await listAs(t, ADMIN_AUTH)).statusCode).toBe(200);
  });

  it('is protected even when a disabled Administrator exists', async () => {
    await upsert(t, {
      username: 'sleeper',
      password: 'sleeper-password',
      usertype: 'Administrator',
      enabled: '0',
    });
    expect((await remove(t, ADMIN.username)).statusCode).toBe(409);
    expect(
      (await upsert(t, { username: ADMIN.username, usertype: 'SYS_Creator' })).statusCode,
    ).toBe(409);
    expect(await enabledAdministrators()).toEqual([ADMIN.username]);
  });

  it('may go while another enabled Administrator remains, which then is the last', async () => {
    await upsert(t, { username: 'second', password: 'second-password', usertype: 'Administrator' });
    expect((await upsert(t, { username: ADMIN.username, usertype: 'SYS_Reader' })).statusCode).toBe(
      200,
    );
    expect(await enabledAdministrators()).toEqual(['second']);
    const secondAuth = basic('second', 'second-password');
    const lastDelete = await postForm(t, 'delete', [['username', 'second']], secondAuth);
    expect(lastDelete.statusCode).toBe(409);
    const lastDisable = await postForm(
      t,
      'insertOrUpdate',
      [
        ['username', 'second'],
        ['enabled', '0'],
      ],
      secondAuth,
    );
    expect(lastDisable.statusCode).toBe(409);
    expect(await enabledAdministrators()).toEqual(['second']);
  });

  const OTHER_ADMINS = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'];

  /** Eight enabled Administrators, all of them removed by concurrent requests. */
  async function removeAllAdministratorsAtOnce(remove: (username: string) => Promise<number>) {
    for (const username of OTHER_ADMINS)
      await upsert(t, { username, password: 'other-admin-password', usertype: 'Administrator' });
    expect(await enabledAdministrators()).toHaveLength(8);
    const statuses = await Promise.all([...OTHER_ADMINS, ADMIN.username].map(remove));
    const remaining = await enabledAdministrators();
    expect(remaining.length).toBeGreaterThanOrEqual(1);
    // Every success took effect and nothing else did: the refused requests answered 409.
    expect(remaining).toHaveLength(8 - statuses.filter((status) => status === 200).length);
    expect(statuses.filter((status) => status !== 200)).toEqual(remaining.map(() => 409));
  }

  it('survives concurrent deletes of every Administrator', async () => {
    await removeAllAdministratorsAtOnce(async (username) => (await remove(t, username)).statusCode);
  });

  it('survives concurrent demotions of every Administrator', async () => {
    await removeAllAdministratorsAtOnce(
      async (username) => (await upsert(t, { username, usertype: 'SYS_Reader' })).statusCode,
    );
  });
});

describe('POST /user/delete', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('deletes a user from JSON and answers {"success":true}', async () => {
    await upsert(t, { username: 'gone', password: 'gone-password' });
    const response = await remove(t, 'gone');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true });
    expect(await findUser(t, 'gone')).toBeNull();
  });

  it('deletes a user from a form', async () => {
    await upsert(t, { username: 'gone-form', password: 'gone-password' });
    const response = await postForm(t, 'delete', [['username', 'gone-form']]);
    expect(response.statusCode).toBe(200);
    expect(await findUser(t, 'gone-form')).toBeNull();
  });

  it('answers 404 with the envelope for a user that does not exist', async () => {
    const response = await remove(t, 'nobody-here');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ success: false, code: '404' });
  });

  it('answers 400 naming username when it is missing', async () => {
    const response = await t.admin('POST', `${USER_API}/delete`, {});
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([expect.objectContaining({ field: 'username' })]);
  });

  it('answers 403 to a caller who is not an Administrator and deletes nothing', async () => {
    await upsert(t, { username: 'reader', password: 'reader-password' });
    await upsert(t, { username: 'target', password: 'target-password' });
    const response = await postForm(
      t,
      'delete',
      [['username', 'target']],
      basic('reader', 'reader-password'),
    );
    expect(response.statusCode).toBe(403);
    expect(await findUser(t, 'target')).not.toBeNull();
  });
});

describe('GET /user/list and GET /roles/types', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await upsert(t, {
      username: 'henry',
      password: 'henry-password',
      usertype: 'SYS_CREATOR',
      roles: ['Manager'],
    });
    await upsert(t, { username: 'ivy', password: 'ivy-password', enabled: '0' });
  });
  afterAll(() => t.close());

  it('lists every user with its canonical type and flag, and no password hash anywhere', async () => {
    const response = await listAs(t, ADMIN_AUTH);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.success).toBe(true);
    expect(body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ username: 'admin', usertype: 'Administrator', enabled: '1' }),
        expect.objectContaining({
          username: 'henry',
          usertype: 'SYS_Creator',
          roles: ['Manager'],
          enabled: '1',
        }),
        expect.objectContaining({ username: 'ivy', usertype: 'SYS_Reader', enabled: '0' }),
      ]),
    );
    expect(body.data).toHaveLength(3);
    expect(keysOf(body).filter((key) => /pass|hash/i.test(key))).toEqual([]);
    expect(response.body).not.toContain('scrypt$');
  });

  it('answers 403 to a caller who is not an Administrator', async () => {
    const response = await listAs(t, basic('henry', 'henry-password'));
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ success: false, code: '403' });
  });

  it('answers 401 with the Basic challenge to an anonymous caller', async () => {
    const response = await t.inject({ method: 'GET', url: `${USER_API}/list` });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic realm="datafor"');
  });

  it('answers roles/types with exactly the body of the contract', async () => {
    const response = await t.inject({ method: 'GET', url: ROLE_TYPES_URL });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(
      '{"success":true,"list":[{"authority":"SYS_Reader"},{"authority":"SYS_Creator"},{"authority":"Administrator"}]}',
    );
  });
});

describe('cached Basic credentials', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** Two accepted requests in a row: the second one is answered from the credential cache. */
  async function signInTwice(authorization: string, url = `${USER_API}/detail`) {
    for (let i = 0; i < 2; i++) {
      const response = await t.inject({ method: 'GET', url, headers: { authorization } });
      expect(response.statusCode).toBe(200);
    }
  }

  it('refuse the old password at once after an admin changes it, and accept the new one', async () => {
    await upsert(t, { username: 'jack', password: 'jack-old-password' });
    await signInTwice(basic('jack', 'jack-old-password'));
    expect((await upsert(t, { username: 'jack', password: 'jack-new-password' })).statusCode).toBe(
      200,
    );
    const old = await detail(t, basic('jack', 'jack-old-password'));
    expect(old.statusCode).toBe(401);
    expect(old.headers['www-authenticate']).toBe('Basic realm="datafor"');
    const renewed = await detail(t, basic('jack', 'jack-new-password'));
    expect(renewed.statusCode).toBe(200);
    expect(renewed.json().data.user.username).toBe('jack');
  });

  it('refuse a user at once after it is disabled', async () => {
    await upsert(t, { username: 'kate', password: 'kate-password' });
    await signInTwice(basic('kate', 'kate-password'));
    expect((await upsert(t, { username: 'kate', enabled: '0' })).statusCode).toBe(200);
    expect((await detail(t, basic('kate', 'kate-password'))).statusCode).toBe(401);
  });

  it('refuse a user at once after it is deleted', async () => {
    await upsert(t, { username: 'liam', password: 'liam-password' });
    await signInTwice(basic('liam', 'liam-password'));
    expect((await remove(t, 'liam')).statusCode).toBe(200);
    expect((await detail(t, basic('liam', 'liam-password'))).statusCode).toBe(401);
  });

  it('lose the Administrator rights at once when an admin demotes the user', async () => {
    await upsert(t, { username: 'mia', password: 'mia-password', usertype: 'Administrator' });
    await signInTwice(basic('mia', 'mia-password'), `${USER_API}/list`);
    expect((await upsert(t, { username: 'mia', usertype: 'SYS_Reader' })).statusCode).toBe(200);
    expect((await listAs(t, basic('mia', 'mia-password'))).statusCode).toBe(403);
  });
});
