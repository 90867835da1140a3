import { createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretBox } from '../src/secrets/secret-box';
import { TokenConfigEntity } from '../src/token/entities/token-config.entity';
import { TokenKeyEntity } from '../src/token/entities/token-key.entity';
import { previousKeyContext, signingKeyContext } from '../src/token/token-config.store';
import { databaseKind } from './support/database';
import { signHmacToken } from './support/jwt';
import { ADMIN, SESSION_API, startTestApp, TestApp, TOKEN_API, USER_API } from './support/test-app';

const SECRET = 'at-rest-secret-never-in-clear-0123456789';
const ROTATED_SECRET = 'at-rest-rotated-secret-in-clear-never-0123';
const CREDENTIAL = 'at-rest-service-credential-0123456789abc';
const INIT_PASSWORD = 'at-rest-initial-password';
const USER_PASSWORD = 'at-rest-user-password';
const PAYLOAD_PASSWORD = 'at-rest-payload-password';
/** What a private key in clear text would show, whatever its encoding. */
const PRIVATE_KEY_MARKERS = ['BEGIN PRIVATE KEY', 'PRIVATE KEY-----'];

/**
 * The forms a private key could be stored or shown in, each by a name: its PEM, its DER in base64,
 * base64url and hex, and its JWK private members (d, and p, q, dp, dq, qi for RSA).
 */
function privateKeyForms(pem: string): [string, string][] {
  const key = createPrivateKey(pem);
  const der = key.export({ format: 'der', type: 'pkcs8' });
  const jwk = key.export({ format: 'jwk' });
  const members = (['d', 'p', 'q', 'dp', 'dq', 'qi'] as const).flatMap((member) =>
    typeof jwk[member] === 'string' ? [[`jwk ${member}`, jwk[member]] as [string, string]] : [],
  );
  return [
    ['pem', pem],
    ['pem body', pem.replace(/-----[A-Z ]+-----/g, '').trim()],
    ['der base64', der.toString('base64')],
    ['der base64url', der.toString('base64url')],
    ['der hex', der.toString('hex')],
    ...members,
  ];
}

/**
 * A whole session of use (configurations, mints, single sign-on, sessions, users, revocation,
 * introspection, audit, key rotations of an HMAC secret and of a service-held RS256 pair), then a
 * grep of everything the service wrote: the data directory's files, every table of the database
 * (SQLite, or DATABASE_URL's PostgreSQL), the debug log, and its answers. No secret, password,
 * cookie, token or private key may appear in clear text.
 */
describe(`after a full run, nothing radioactive at rest (${databaseKind()})`, () => {
  let t: TestApp;
  /** Secrets and private keys: never stored, logged or answered in clear. */
  const keyMaterial: string[] = [SECRET, ROTATED_SECRET, CREDENTIAL, ...PRIVATE_KEY_MARKERS];
  const radioactive: string[] = [INIT_PASSWORD, USER_PASSWORD, PAYLOAD_PASSWORD, ADMIN.password];
  /** Every answer's body: content, list, update, rotate, generate, the JWKS. */
  const answers: { request: string; body: string }[] = [];
  /** The service-held configuration's private keys as sealed: the current pair and the rotated one. */
  let sealedPairs = 0;
  /** How a leak is reported: a name for a private key's forms, else the value's first characters. */
  const labels = new Map<string, string>();

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

    // Key versions: an HMAC secret rotated, a service-held RS256 pair made, then rotated.
    const answered = async (
      request: string,
      response: Promise<{ statusCode: number; body: string }>,
    ) => {
      const { statusCode, body } = await response;
      answers.push({ request, body });
      expect({ request, statusCode }).toEqual({ request, statusCode: 200 });
      return body;
    };
    const post = (path: string, body: object) =>
      answered(`POST ${path}`, t.admin('POST', `${TOKEN_API}/${path}`, body));
    await post('rotate', { name: 'ERP', secret: ROTATED_SECRET });
    for (const privateKey of [SECRET, ROTATED_SECRET]) {
      const body = await post('generate', {
        name: 'ERP',
        privateKey,
        payload: { username: 'carol' },
      });
      radioactive.push(JSON.parse(body).token);
    }
    await post('update', {
      name: 'BI',
      algorithm: 'RS256',
      keyholder: 'service',
      secret: CREDENTIAL,
      enable: '1',
    });
    await post('rotate', { name: 'BI' });
    // The pair that signed before the rotation signs until the new one is published long enough.
    const signed = await post('generate', {
      name: 'BI',
      privateKey: CREDENTIAL,
      payload: { username: 'carol' },
    });
    radioactive.push(JSON.parse(signed).token);
    for (const name of ['ERP', 'BI'])
      await answered(`GET content ${name}`, t.admin('GET', `${TOKEN_API}/content?name=${name}`));
    await answered('GET list', t.admin('GET', `${TOKEN_API}/list`));
    const jwks = JSON.parse(
      await answered('GET jwks', t.inject({ method: 'GET', url: '/.well-known/jwks.json' })),
    ) as { keys: (JsonWebKey & { kid: string })[] };

    // The private keys, opened as the service opens them, are the ones whose public halves the
    // JWKS publishes (node:crypto compares them): what the greps below look for is the real key.
    const box = t.app.get(SecretBox);
    const config = await t.dataSource
      .getRepository(TokenConfigEntity)
      .findOneByOrFail({ name: 'BI' });
    const previous = await t.dataSource.getRepository(TokenKeyEntity).findBy({ configName: 'BI' });
    const pairs = [
      { kid: config.kid!, pem: box.open(config.signingKeySealed!, signingKeyContext(config.kid!)) },
      ...previous.map((row) => ({
        kid: row.kid,
        pem: box.open(row.keySealed, previousKeyContext(row.kid)),
      })),
    ];
    sealedPairs = pairs.length;
    for (const { kid, pem } of pairs) {
      const published = jwks.keys.find((key) => key.kid === kid);
      expect(published?.n).toBe(createPublicKey(pem).export({ format: 'jwk' }).n);
      for (const [form, value] of privateKeyForms(pem)) {
        keyMaterial.push(value);
        labels.set(value, `the private key of ${kid} (${form})`);
      }
    }
    radioactive.push(...keyMaterial);
  });
  afterAll(() => t.close());

  const leaksOf = (values: string[], text: string) =>
    values
      .filter((value) => text.includes(value))
      .map((value) => labels.get(value) ?? value.slice(0, 8));
  const leaks = (text: string) => leaksOf(radioactive, text);

  it('has sealed both pairs of the rotated service-held key', () => {
    expect(sealedPairs).toBe(2);
  });

  it('keeps none in the data directory', () => {
    const files = readdirSync(t.dataDir);
    expect(files).toContain('secrets.key');
    for (const file of files) {
      const text = readFileSync(join(t.dataDir, file)).toString('latin1');
      expect({ file, leaks: leaks(text) }).toEqual({ file, leaks: [] });
    }
  });

  it('keeps none in any column of any table', async () => {
    const tables = (
      (await t.dataSource.query(
        databaseKind() === 'postgres'
          ? 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()'
          : "SELECT name FROM sqlite_master WHERE type = 'table'",
      )) as { name: string }[]
    ).map(({ name }) => name);
    expect(tables).toEqual(expect.arrayContaining(['token_configs', 'token_keys', 'audit_events']));
    for (const table of tables) {
      const rows = (await t.dataSource.query(`SELECT * FROM "${table}"`)) as Record<
        string,
        unknown
      >[];
      if (table === 'token_keys') expect(rows).toHaveLength(2);
      // Each value as stored (a JSON text would escape a PEM's line breaks).
      for (const column of Object.keys(rows[0] ?? {})) {
        const values = rows.map(({ [column]: value }) =>
          typeof value === 'string'
            ? value
            : Buffer.isBuffer(value)
              ? value.toString('latin1')
              : JSON.stringify(value),
        );
        expect({ table, column, leaks: leaks(values.join('\n')) }).toEqual({
          table,
          column,
          leaks: [],
        });
      }
    }
  });

  it('answers none: content, list, update, rotate, generate and the JWKS hold no secret or private key', () => {
    expect(answers.map(({ request }) => request)).toEqual(
      expect.arrayContaining([
        'POST rotate',
        'POST generate',
        'GET list',
        'GET content BI',
        'GET jwks',
      ]),
    );
    for (const { request, body } of answers)
      expect({ request, leaks: leaksOf(keyMaterial, body) }).toEqual({ request, leaks: [] });
  });

  it('writes none to the debug log', () => {
    const text = t.logs.join('');
    expect(text).toContain('request completed');
    expect(leaks(text)).toEqual([]);
  });
});
