import { AuditEventEntity } from '../src/audit/entities/audit-event.entity';
import { UserEntity } from '../src/users/entities/user.entity';
import { decodeToken, verifyHmacToken } from './support/jwt';
import { ADMIN_AUTH, startTestApp, TestApp, TOKEN_API } from './support/test-app';

const SECRET = 'erp-shared-secret-0123456789-abcdef';
const GOLDEN_TOKEN =
  'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJFUlAiOiJhZG1pbiIsImV4cCI6MTcyMzAxNTkxNn0.uEmUwBfNAd5FtzjPPrldU9bierng7fd8rCVlZtVPY2k';

describe('POST /token/generate', () => {
  let t: TestApp;
  let now = Date.now();

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => now } });
    const created = await t.admin('POST', `${TOKEN_API}/update`, {
      name: 'ERP',
      secret: SECRET,
      enable: '1',
      fieldmap: { username: 'uid', name: 'fullName', email: 'mail' },
      initroles: ['SYS_Creator', 'Viewer'],
    });
    expect(created.statusCode).toBe(200);
  });
  afterAll(() => t.close());
  afterEach(() => {
    now = Date.now();
  });

  const generate = (body: object) => t.admin('POST', `${TOKEN_API}/generate`, body);
  const findUser = (username: string) =>
    t.dataSource.getRepository(UserEntity).findOneBy({ username });

  it('mints an HS256 token that an independent HMAC check accepts, with the claims of the contract', async () => {
    now = 1_800_000_000_000;
    const response = await generate({
      name: 'ERP',
      privateKey: SECRET,
      payload: {
        username: 'alice',
        name: 'Alice A',
        email: 'alice@example.com',
        roles: ['Manager'],
        dept: 'Sales',
        level: 3,
        vip: true,
        regions: ['EU', 'US'],
      },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({ success: true, expire: 86400, token: expect.any(String) });
    const { header, claims } = verifyHmacToken(body.token, SECRET, 'HS256');
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'ERP' });
    expect(claims).toEqual({
      uid: 'alice',
      fullName: 'Alice A',
      mail: 'alice@example.com',
      roles: ['Manager'],
      dept: 'Sales',
      level: '3',
      vip: 'true',
      regions: ['EU', 'US'],
      iat: 1_800_000_000,
      exp: 1_800_000_000 + 86400,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('rejects a token whose signature was made with another secret (the independent check can fail)', async () => {
    const { token } = (
      await generate({ name: 'ERP', privateKey: SECRET, payload: { username: 'alice' } })
    ).json();
    expect(() => verifyHmacToken(token, `${SECRET}x`, 'HS256')).toThrow('bad signature');
  });

  it('leaves out a payload field sent as null', async () => {
    const response = await generate({
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'alice', note: null, dept: null },
    });
    expect(response.statusCode).toBe(200);
    const { claims } = verifyHmacToken(response.json().token, SECRET);
    expect(claims).not.toHaveProperty('note');
    expect(claims).not.toHaveProperty('dept');
  });

  it('gives every token its own jti', async () => {
    const tokens = await Promise.all(
      [1, 2, 3].map(() =>
        generate({ name: 'ERP', privateKey: SECRET, payload: { username: 'alice' } }),
      ),
    );
    const ids = tokens.map((r) => decodeToken(r.json().token).claims.jti);
    expect(new Set(ids).size).toBe(3);
  });

  it('never puts the password into the token', async () => {
    const response = await generate({
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'newbie', password: 'hunter2-secret' },
    });
    expect(response.statusCode).toBe(200);
    const token: string = response.json().token;
    expect(Buffer.from(token.split('.')[1], 'base64url').toString()).not.toContain('hunter2');
    expect(decodeToken(token).claims).not.toHaveProperty('password');
  });

  it('accepts the older form-urlencoded shape with the payload fields flat', async () => {
    const response = await t.inject({
      method: 'POST',
      url: `${TOKEN_API}/generate`,
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams([
        ['name', 'ERP'],
        ['privateKey', SECRET],
        ['username', 'formuser'],
        ['email', 'f@example.com'],
        ['roles', 'Manager'],
        ['roles', 'Sales'],
      ]).toString(),
    });
    expect(response.statusCode).toBe(200);
    const { claims } = verifyHmacToken(response.json().token, SECRET);
    expect(claims).toMatchObject({
      uid: 'formuser',
      mail: 'f@example.com',
      roles: ['Manager', 'Sales'],
    });
  });

  it('creates an unknown user with the type named in payload.roles and the initroles', async () => {
    const response = await generate({
      name: 'ERP',
      privateKey: SECRET,
      payload: {
        username: 'bob',
        name: 'Bob B',
        dept: 'Ops',
        roles: ['sys_reader', 'Auditor'],
        password: 'bobs-password',
      },
    });
    expect(response.statusCode).toBe(200);
    const bob = await findUser('bob');
    expect(bob).toMatchObject({
      usertype: 'SYS_Reader',
      name: 'Bob B',
      dept: 'Ops',
      enabled: true,
    });
    expect(bob!.roles.sort()).toEqual(['Auditor', 'Viewer']);
    expect(bob!.passwordHash).toMatch(/^scrypt\$/);
    expect(bob!.passwordHash).not.toContain('bobs-password');
  });

  it('takes the user type from initroles when the payload names none', async () => {
    expect(
      (await generate({ name: 'ERP', privateKey: SECRET, payload: { username: 'carol' } }))
        .statusCode,
    ).toBe(200);
    expect(await findUser('carol')).toMatchObject({
      usertype: 'SYS_Creator',
      roles: ['Viewer'],
      passwordHash: null,
    });
  });

  it('never changes an existing user', async () => {
    await generate({
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'dave', name: 'Dave' },
    });
    const before = await findUser('dave');
    await generate({
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'dave', name: 'Changed', roles: ['SYS_Creator', 'Boss'] },
    });
    expect(await findUser('dave')).toEqual(before);
  });

  it('refuses to make an Administrator from a payload (403) and creates nobody', async () => {
    const response = await generate({
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'mallory', roles: ['administrator'] },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ success: false, code: '403' });
    expect(await findUser('mallory')).toBeNull();
  });

  it('refuses two user types in payload.roles', async () => {
    const response = await generate({
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'eve', roles: ['SYS_Reader', 'SYS_Creator'] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      { field: 'payload.roles', message: 'may name at most one user type' },
    ]);
  });

  it('answers 409 for a disabled user', async () => {
    await t.admin('POST', '/plugin/datafor-modeler/api/user/insertOrUpdate', {
      username: 'frozen',
      password: 'frozen-pass',
      enabled: '0',
    });
    const response = await generate({
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'frozen' },
    });
    expect(response.statusCode).toBe(409);
  });

  it('answers 404 for an unknown user of a configuration that does not create users', async () => {
    await t.admin('POST', `${TOKEN_API}/update`, {
      name: 'NOINIT',
      secret: SECRET,
      enable: '1',
      inituser: '0',
    });
    const response = await generate({
      name: 'NOINIT',
      privateKey: SECRET,
      payload: { username: 'ghost' },
    });
    expect(response.statusCode).toBe(404);
    expect(await findUser('ghost')).toBeNull();
  });

  it.each(['HS384', 'HS512'])('signs with %s when the configuration says so', async (algorithm) => {
    await t.admin('POST', `${TOKEN_API}/update`, {
      name: `ERP_${algorithm}`,
      secret: SECRET,
      enable: '1',
      algorithm,
    });
    const response = await generate({
      name: `ERP_${algorithm}`,
      privateKey: SECRET,
      payload: { username: 'alice' },
    });
    expect(response.statusCode).toBe(200);
    expect(verifyHmacToken(response.json().token, SECRET, algorithm).header.alg).toBe(algorithm);
  });

  it('records every mint in the audit trail without the token or the key', async () => {
    const response = await generate({
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'audited' },
    });
    const { token } = response.json();
    const { jti } = decodeToken(token).claims;
    const events = await t.dataSource
      .getRepository(AuditEventEntity)
      .findBy({ action: 'token.mint' });
    const event = events.find((e) => e.details?.jti === jti);
    expect(event).toMatchObject({
      actor: 'admin',
      target: 'ERP',
      outcome: 'success',
      details: { username: 'audited', jti },
    });
    const everything = JSON.stringify(events);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(SECRET);
  });
});

describe('the golden vector of the vendor page', () => {
  it('is an HS256 token over {"ERP":"admin","exp":1723015916} with key abcd (independent check)', () => {
    const { header, claims } = verifyHmacToken(GOLDEN_TOKEN, 'abcd', 'HS256');
    expect(header).toEqual({ typ: 'JWT', alg: 'HS256' });
    expect(claims).toEqual({ ERP: 'admin', exp: 1723015916 });
  });

  it('is what the service mints for admin with {name: ERP, secret: abcd, fieldmap: {username: ERP}} at 1723015916 - 86400', async () => {
    const t = await startTestApp({ clock: { now: () => (1723015916 - 86400) * 1000 } });
    try {
      const saved = await t.admin('POST', `${TOKEN_API}/update`, {
        name: 'ERP',
        secret: 'abcd',
        enable: '1',
        fieldmap: { username: 'ERP' },
      });
      expect(saved.json()).toMatchObject({ success: true, type: '2' });
      const response = await t.admin('POST', `${TOKEN_API}/generate`, {
        name: 'ERP',
        privateKey: 'abcd',
        payload: { username: 'admin' },
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().expire).toBe(86400);
      const { claims } = verifyHmacToken(response.json().token, 'abcd', 'HS256');
      const { iat, jti, ...vendorClaims } = claims;
      expect(vendorClaims).toEqual({ ERP: 'admin', exp: 1723015916 });
      expect(iat).toBe(1723015916 - 86400);
      expect(typeof jti).toBe('string');
      expect(response.json().token.split('.')[1]).not.toBe(GOLDEN_TOKEN.split('.')[1]);
    } finally {
      await t.close();
    }
  });
});
