import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { verifyHmacToken } from './support/jwt';
import { basic, startTestApp, TestApp, TOKEN_API } from './support/test-app';

const SECRET = 'a-shared-secret-of-more-than-32-bytes';
const MASK = '************';

function spki(type: 'rsa' | 'ec', option: { modulusLength?: number; namedCurve?: string }): string {
  const { publicKey } = generateKeyPairSync(type as 'rsa', option as { modulusLength: number });
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

describe('token configurations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const update = (body: object) => t.admin('POST', `${TOKEN_API}/update`, body);
  const content = (name: string) => t.admin('GET', `${TOKEN_API}/content?name=${name}`);
  const mint = (name: string, privateKey: string) =>
    t.admin('POST', `${TOKEN_API}/generate`, { name, privateKey, payload: { username: 'alice' } });

  it('creates a configuration with the defaults filled in and the secret masked', async () => {
    const response = await update({ name: 'ERP', secret: SECRET });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true, msg: 'success' });
    const shown = await content('ERP');
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toEqual({
      success: true,
      name: 'ERP',
      token_name: 'token',
      secret: MASK,
      expire: 86400,
      fieldmap: { username: 'ERP' },
      algorithm: 'HS256',
      keyholder: 'issuer',
      // One key version, whose kid is the configuration's name until a rotation.
      keys: [{ kid: 'ERP', created: expect.any(Number), signsFrom: expect.any(Number) }],
      enable: '0',
      inituser: '1',
      initroles: ['SYS_Reader'],
      createdDate: expect.any(Number),
      lastModifiedDate: expect.any(Number),
      creatorId: 'admin',
    });
  });

  it('lists every configuration, secrets masked', async () => {
    await update({ name: 'CRM', secret: SECRET, enable: '1', initpwd: 'initial-password' });
    const response = await t.admin('GET', `${TOKEN_API}/list`);
    expect(response.statusCode).toBe(200);
    const { success, data } = response.json();
    expect(success).toBe(true);
    expect(data.map((c: { name: string }) => c.name)).toEqual(['CRM', 'ERP']);
    expect(data.every((c: { secret: string }) => c.secret === MASK)).toBe(true);
    expect(data[0].initpwd).toBe(MASK);
    expect(response.body).not.toContain(SECRET);
    expect(response.body).not.toContain('initial-password');
  });

  it('answers 404 for the content of an unknown configuration', async () => {
    const response = await content('NOPE');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ success: false, code: '404' });
  });

  it('keeps the stored secret when an update omits it or sends the mask, and replaces the other fields', async () => {
    await update({ name: 'KEEP', secret: SECRET, enable: '1', expire: 600, token_name: 'jwt' });
    const created = (await content('KEEP')).json();
    expect((await update({ name: 'KEEP', enable: '1' })).statusCode).toBe(200);
    expect((await update({ name: 'KEEP', secret: MASK, enable: '1' })).statusCode).toBe(200);
    const after = (await content('KEEP')).json();
    expect(after).toMatchObject({
      expire: 86400,
      token_name: 'token',
      createdDate: created.createdDate,
    });
    expect(after.lastModifiedDate).toBeGreaterThanOrEqual(created.lastModifiedDate);
    const minted = await mint('KEEP', SECRET);
    expect(minted.statusCode).toBe(200);
    verifyHmacToken(minted.json().token, SECRET);
  });

  it("takes content's answer posted back as it is (the fields only content answers are ignored)", async () => {
    await update({
      name: 'BACK',
      secret: SECRET,
      enable: '1',
      expire: 600,
      initpwd: 'initial-password',
    });
    const shown = (await content('BACK')).json();
    // success, keys, createdDate, lastModifiedDate, creatorId and the masked secret and initpwd too.
    const response = await update(shown);
    expect(response.statusCode).toBe(200);
    const after = (await content('BACK')).json();
    expect(after).toEqual({ ...shown, lastModifiedDate: expect.any(Number) });
    verifyHmacToken((await mint('BACK', SECRET)).json().token, SECRET);
    // The document states their types; the validation holds them to it.
    const wrong = await update({ ...shown, createdDate: 'yesterday' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors).toEqual([
      { field: 'createdDate', message: 'must be a whole number' },
    ]);
  });

  it('signs with a new secret as soon as it is changed, and refuses the old one', async () => {
    const next = `${SECRET}-rotated`;
    await update({ name: 'ROTATE', secret: SECRET, enable: '1' });
    expect((await mint('ROTATE', SECRET)).statusCode).toBe(200);
    await update({ name: 'ROTATE', secret: next, enable: '1' });
    expect((await mint('ROTATE', SECRET)).statusCode).toBe(400);
    verifyHmacToken((await mint('ROTATE', next)).json().token, next);
  });

  it('warns about an HMAC secret shorter than 32 bytes but stores it', async () => {
    const response = await update({ name: 'SHORT', secret: 'abcd', enable: '1' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      success: true,
      msg: 'success',
      type: '2',
      warning: expect.stringContaining('4 bytes'),
    });
    expect(response.body).not.toContain('abcd');
    expect((await mint('SHORT', 'abcd')).statusCode).toBe(200);
  });

  it('refuses a lifetime above the configured maximum', async () => {
    const response = await update({ name: 'LONG', secret: SECRET, expire: 2592001 });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      { field: 'expire', message: 'must be at most 2592000 seconds' },
    ]);
    expect((await content('LONG')).statusCode).toBe(404);
  });

  it('accepts a form with fieldmap and initroles as JSON text', async () => {
    const response = await t.inject({
      method: 'POST',
      url: `${TOKEN_API}/update`,
      headers: {
        authorization: basic('admin', 'admin-password-1'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams({
        name: 'FORM',
        secret: SECRET,
        enable: '1',
        expire: '3600',
        fieldmap: '{"username":"sub","email":"mail"}',
        initroles: '["sys_creator","Sales"]',
      }).toString(),
    });
    expect(response.statusCode).toBe(200);
    expect((await content('FORM')).json()).toMatchObject({
      expire: 3600,
      fieldmap: { username: 'sub', email: 'mail' },
      initroles: ['SYS_Creator', 'Sales'],
    });
  });

  it.each([
    ['RS256', () => spki('rsa', { modulusLength: 2048 })],
    ['RS512', () => spki('rsa', { modulusLength: 3072 })],
    ['ES256', () => spki('ec', { namedCurve: 'prime256v1' })],
    ['ES384', () => spki('ec', { namedCurve: 'secp384r1' })],
    ['ES512', () => spki('ec', { namedCurve: 'secp521r1' })],
  ])('stores the issuer public key of a %s configuration', async (algorithm, key) => {
    const response = await update({
      name: `PK_${algorithm}`,
      secret: key(),
      algorithm,
      enable: '1',
    });
    expect(response.statusCode).toBe(200);
    expect((await content(`PK_${algorithm}`)).json()).toMatchObject({ algorithm, secret: MASK });
  });

  it.each([
    ['RS256', 'not-a-key', 'must be a base64 SPKI public key'],
    ['RS256', spki('ec', { namedCurve: 'prime256v1' }), 'must be an RSA public key for RS256'],
    ['RS256', spki('rsa', { modulusLength: 1024 }), 'must be an RSA key of at least 2048 bits'],
    [
      'ES384',
      spki('ec', { namedCurve: 'prime256v1' }),
      'must be an EC public key on curve secp384r1 for ES384',
    ],
    [
      'ES256',
      spki('rsa', { modulusLength: 2048 }),
      'must be an EC public key on curve prime256v1 for ES256',
    ],
  ])(
    'refuses a %s secret that is not a public key of that family',
    async (algorithm, secret, message) => {
      const response = await update({ name: 'BADKEY', secret, algorithm });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([{ field: 'secret', message }]);
      expect((await content('BADKEY')).statusCode).toBe(404);
    },
  );

  it('does not mint with an RS256 configuration, which only verifies tokens its owner signs', async () => {
    const response = await mint('PK_RS256', 'anything');
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('name');
  });

  it('refuses to turn a public key into an HMAC secret when only the algorithm changes', async () => {
    const response = await update({ name: 'PK_RS256', algorithm: 'HS256', enable: '1' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0]).toMatchObject({ field: 'secret' });
    expect((await content('PK_RS256')).json().algorithm).toBe('RS256');
  });

  it('refuses a fieldmap that points at a claim the service sets', async () => {
    const response = await update({ name: 'FM', secret: SECRET, fieldmap: { username: 'exp' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('fieldmap.username');
  });

  it('deletes a configuration, after which it mints nothing (404), and answers 404 the second time', async () => {
    await update({ name: 'GONE', secret: SECRET, enable: '1' });
    expect((await mint('GONE', SECRET)).statusCode).toBe(200);
    const deleted = await t.admin('POST', `${TOKEN_API}/delete`, { name: 'GONE' });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toEqual({ success: true });
    expect((await mint('GONE', SECRET)).statusCode).toBe(404);
    expect((await t.admin('POST', `${TOKEN_API}/delete`, { name: 'GONE' })).statusCode).toBe(404);
  });

  it('stops minting at once when a configuration is disabled (409)', async () => {
    await update({ name: 'OFF', secret: SECRET, enable: '1' });
    expect((await mint('OFF', SECRET)).statusCode).toBe(200);
    await update({ name: 'OFF', enable: '0' });
    expect((await mint('OFF', SECRET)).statusCode).toBe(409);
  });

  it('deletes a batch of names, skipping those that do not exist', async () => {
    await update({ name: 'B1', secret: SECRET });
    await update({ name: 'B2', secret: SECRET });
    const response = await t.admin('POST', `${TOKEN_API}/deleteBatch`, ['B1', 'B2', 'NEVER']);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true, msg: 'success' });
    expect((await content('B1')).statusCode).toBe(404);
    expect((await content('B2')).statusCode).toBe(404);
    expect((await content('ERP')).statusCode).toBe(200);
  });

  it('gives users created through a configuration its initial password', async () => {
    const minted = await t.admin('POST', `${TOKEN_API}/generate`, {
      name: 'CRM',
      privateKey: SECRET,
      payload: { username: 'crm-user' },
    });
    expect(minted.statusCode).toBe(200);
    const detail = await t.inject({
      method: 'GET',
      url: '/plugin/datafor-modeler/api/user/detail',
      headers: { authorization: basic('crm-user', 'initial-password') },
    });
    expect(detail.statusCode).toBe(200);
    expect(detail.json().data.user).toMatchObject({ username: 'crm-user', usertype: 'SYS_Reader' });
  });

  it('clears the initial password when initpwd is sent empty, and keeps it when initpwd is null', async () => {
    await update({ name: 'PWD', secret: SECRET, initpwd: 'initial-password' });
    await update({ name: 'PWD', secret: MASK, initpwd: null });
    expect((await content('PWD')).json().initpwd).toBe(MASK);
    await update({ name: 'PWD', secret: MASK, initpwd: '' });
    expect((await content('PWD')).json()).not.toHaveProperty('initpwd');
  });

  it('keeps no secret in clear text at rest', async () => {
    const rows: { secret_sealed: string }[] = await t.dataSource.query(
      'SELECT secret_sealed FROM token_configs',
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.secret_sealed).toMatch(/^v1:/);
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    for (const file of readdirSync(t.dataDir)) {
      const bytes = readFileSync(join(t.dataDir, file));
      expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
      expect(bytes.includes(Buffer.from('initial-password'))).toBe(false);
    }
  });
});

describe('the master key that seals secrets', () => {
  it('is generated on first start into DATA_DIR/secrets.key, readable by its owner only', async () => {
    const t = await startTestApp();
    try {
      expect(statSync(join(t.dataDir, 'secrets.key')).mode & 0o777).toBe(0o600);
    } finally {
      await t.close();
    }
  });

  it('stops the start with a clear error when SECRETS_KEY does not open the stored secrets', async () => {
    const first = await startTestApp({ env: { SECRETS_KEY: randomBytes(32).toString('base64') } });
    await first.admin('POST', `${TOKEN_API}/update`, { name: 'ERP', secret: SECRET });
    await first.close({ keepData: true });
    try {
      await expect(
        startTestApp({
          attach: first.stored,
          env: { SECRETS_KEY: randomBytes(32).toString('base64') },
        }),
      ).rejects.toThrow('does not open with this master key');
    } finally {
      await first.stored.drop();
    }
  });

  it('refuses a SECRETS_KEY that is not 32 bytes of base64, naming the variable', async () => {
    await expect(startTestApp({ env: { SECRETS_KEY: 'short' } })).rejects.toThrow(
      /SECRETS_KEY must be 32 bytes in base64/,
    );
  });

  it('makes a minimum secret length mandatory when TOKEN_MIN_SECRET_BYTES is set', async () => {
    const t = await startTestApp({ env: { TOKEN_MIN_SECRET_BYTES: '32' } });
    try {
      const response = await t.admin('POST', `${TOKEN_API}/update`, {
        name: 'ERP',
        secret: 'abcd',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([
        { field: 'secret', message: 'must be at least 32 bytes long' },
      ]);
    } finally {
      await t.close();
    }
  });
});
