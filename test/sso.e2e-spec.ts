import {
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
  sign as cryptoSign,
} from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { AuditEventEntity } from '../src/audit/entities/audit-event.entity';
import { UserEntity } from '../src/users/entities/user.entity';
import { decodeToken, signHmacToken } from './support/jwt';
import { ADMIN, startTestApp, TestApp, TOKEN_API, USER_API } from './support/test-app';

/**
 * Single sign-on (contract section 4): tokens minted here or signed by the ERP itself with
 * node:crypto, presented as `Authorization: Bearer` or in the configuration's query parameter.
 */

const SECRET = 'erp-shared-secret-0123456789-abcdef';
const OTHER_SECRET = 'another-erp-secret-0123456789-xyz';
const DETAIL = `${USER_API}/detail`;
const CHALLENGE = 'Basic realm="datafor"';

type Delivery = 'bearer' | 'query';
const DELIVERIES: Delivery[] = ['bearer', 'query'];
type Claims = Record<string, unknown>;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Claims as the ERP writes them: username under `uid`, valid for an hour from now. */
function erpClaims(username: string, extra: Claims = {}): Claims {
  const iat = nowSeconds();
  return { uid: username, iat, exp: iat + 3600, jti: randomUUID(), ...extra };
}

/** An HS256 token signed with node:crypto; kid null leaves the kid out of the header. */
function hs256(claims: Claims, kid: string | null = 'ERP', secret = SECRET): string {
  return signHmacToken({ alg: 'HS256', typ: 'JWT', ...(kid ? { kid } : {}) }, claims, secret);
}

/** An RS256 or ES256 JWT made with node:crypto alone (ES256 as JOSE wants it: raw r||s). */
function signAsymmetric(
  header: object,
  claims: Claims,
  privateKey: KeyObject,
  algorithm: 'RS256' | 'ES256',
): string {
  const body = `${part(header)}.${part(claims)}`;
  const signature =
    algorithm === 'ES256'
      ? cryptoSign('sha256', Buffer.from(body), { key: privateKey, dsaEncoding: 'ieee-p1363' })
      : cryptoSign('sha256', Buffer.from(body), privateKey);
  return `${body}.${signature.toString('base64url')}`;
}

/** The configuration secret of an RS or ES configuration: the public key as base64 SPKI DER. */
const spkiBase64 = (publicKey: KeyObject) =>
  publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

function present(
  t: TestApp,
  token: string,
  delivery: Delivery,
  options: {
    method?: 'GET' | 'POST';
    url?: string;
    tokenName?: string;
    payload?: object;
  } = {},
): Promise<LightMyRequestResponse> {
  const { method = 'GET', url = DETAIL, tokenName = 'token', payload } = options;
  const body = payload === undefined ? {} : { payload };
  return delivery === 'bearer'
    ? t.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...body })
    : t.inject({ method, url: `${url}?${tokenName}=${encodeURIComponent(token)}`, ...body });
}

/** The user that GET /user/detail answers for this token, after checking the answer is a 200. */
async function signedInUser(
  t: TestApp,
  token: string,
  delivery: Delivery,
  tokenName?: string,
): Promise<Record<string, unknown>> {
  const response = await present(t, token, delivery, { tokenName });
  expect({ status: response.statusCode, body: response.json() }).toEqual({
    status: 200,
    body: { success: true, data: { user: expect.any(Object) } },
  });
  return response.json().data.user;
}

function expectUnauthorized(response: LightMyRequestResponse): void {
  expect({
    status: response.statusCode,
    challenge: response.headers['www-authenticate'],
    body: response.json(),
  }).toEqual({
    status: 401,
    challenge: CHALLENGE,
    body: { success: false, code: '401', msg: expect.stringMatching(/\S/) },
  });
  expect(response.body).not.toContain(SECRET);
}

const usersNamed = (t: TestApp, username: string) =>
  t.dataSource.getRepository(UserEntity).countBy({ username });
const findUser = (t: TestApp, username: string) =>
  t.dataSource.getRepository(UserEntity).findOneBy({ username });

async function saveConfig(t: TestApp, config: object): Promise<void> {
  const response = await t.admin('POST', `${TOKEN_API}/update`, config);
  expect({ status: response.statusCode, body: response.json() }).toEqual({
    status: 200,
    body: { success: true, msg: 'success' },
  });
}

async function mint(t: TestApp, name: string, payload: object): Promise<string> {
  const response = await t.admin('POST', `${TOKEN_API}/generate`, {
    name,
    privateKey: SECRET,
    payload,
  });
  expect(response.statusCode).toBe(200);
  return response.json().token;
}

async function revoke(t: TestApp, body: object): Promise<void> {
  const response = await t.admin('POST', `${TOKEN_API}/revoke`, body);
  expect({ status: response.statusCode, body: response.json() }).toEqual({
    status: 200,
    body: { success: true, msg: 'success' },
  });
}

const ERP_CONFIG = {
  name: 'ERP',
  secret: SECRET,
  enable: '1',
  fieldmap: { username: 'uid', name: 'fullName', email: 'mail' },
  initroles: ['SYS_Creator', 'Viewer'],
};

describe('single sign-on: the ERP flow over HTTP', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('signs a user in with a token the ERP minted through /token/generate, as the configured type and roles', async () => {
    await saveConfig(t, ERP_CONFIG);
    const token = await mint(t, 'ERP', {
      username: 'alice',
      name: 'Alice A',
      email: 'alice@example.com',
      roles: ['Sales'],
    });

    const user = await signedInUser(t, token, 'query');
    expect(user).toMatchObject({
      username: 'alice',
      name: 'Alice A',
      email: 'alice@example.com',
      enabled: '1',
      usertype: 'SYS_Creator',
    });
    expect((user.roles as string[]).sort()).toEqual(['Sales', 'Viewer']);
    expect(user).not.toHaveProperty('passwordHash');

    expect((await signedInUser(t, token, 'bearer')).username).toBe('alice');
    expect(await usersNamed(t, 'alice')).toBe(1);
  });

  it('creates an unknown user on the first request of a token the ERP signed itself, and only once', async () => {
    expect(await findUser(t, 'newbie')).toBeNull();
    const usersBefore = await t.dataSource.getRepository(UserEntity).count();
    const token = hs256(
      erpClaims('newbie', { fullName: 'New Bie', mail: 'newbie@example.com', roles: ['Sales'] }),
    );

    const first = await signedInUser(t, token, 'query');
    expect(first).toMatchObject({
      username: 'newbie',
      name: 'New Bie',
      email: 'newbie@example.com',
      enabled: '1',
      usertype: 'SYS_Creator',
    });
    expect((first.roles as string[]).sort()).toEqual(['Sales', 'Viewer']);

    const second = await signedInUser(t, token, 'query');
    expect(second.userid).toBe(first.userid);
    expect(await usersNamed(t, 'newbie')).toBe(1);
    expect(await t.dataSource.getRepository(UserEntity).count()).toBe(usersBefore + 1);
    expect((await findUser(t, 'newbie'))!.passwordHash).toBeNull();
  });

  it('creates the user exactly once when its first requests arrive together', async () => {
    const token = hs256(erpClaims('crowd'));
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => present(t, token, i % 2 ? 'bearer' : 'query')),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(Array(8).fill(200));
    const ids = new Set(responses.map((response) => response.json().data.user.userid));
    expect(ids.size).toBe(1);
    expect(await usersNamed(t, 'crowd')).toBe(1);
  });

  it('reads the token from the query parameter named by a custom token_name', async () => {
    await saveConfig(t, {
      name: 'PORTAL',
      token_name: 'jwt',
      secret: OTHER_SECRET,
      enable: '1',
      fieldmap: { username: 'uid' },
      initroles: ['SYS_Reader', 'Portal'],
    });
    const withKid = hs256(erpClaims('portal-kid'), 'PORTAL', OTHER_SECRET);
    const withoutKid = hs256(erpClaims('portal-nokid'), null, OTHER_SECRET);
    expect(decodeToken(withoutKid).header).not.toHaveProperty('kid');

    for (const [token, username] of [
      [withKid, 'portal-kid'],
      [withoutKid, 'portal-nokid'],
    ]) {
      const user = await signedInUser(t, token, 'query', 'jwt');
      expect(user).toMatchObject({ username, usertype: 'SYS_Reader', roles: ['Portal'] });
      expect(await usersNamed(t, username)).toBe(1);
    }
  });

  it('tries only the configurations whose token_name matches the parameter of a token without kid', async () => {
    const token = hs256(erpClaims('portal-wrong-param'), null, OTHER_SECRET);
    // ?token= belongs to ERP, whose secret does not verify a PORTAL token.
    expectUnauthorized(await present(t, token, 'query', { tokenName: 'token' }));
    expect(await findUser(t, 'portal-wrong-param')).toBeNull();
    expect((await signedInUser(t, token, 'query', 'jwt')).username).toBe('portal-wrong-param');
  });

  it('never makes an Administrator from a roles claim: the new user gets the initroles type', async () => {
    for (const claimed of [['Administrator'], ['administrator', 'Boss']]) {
      const username = `mallory-${claimed.length}`;
      const token = hs256(erpClaims(username, { roles: claimed }));
      const user = await signedInUser(t, token, 'bearer');
      expect(user.usertype).toBe('SYS_Creator');
      const stored = await findUser(t, username);
      expect(stored).toMatchObject({ usertype: 'SYS_Creator' });
      expect(stored!.roles.map((role) => role.toLowerCase())).not.toContain('administrator');
      expect(stored!.roles).toContain('Viewer');
    }
    const answer = await present(t, hs256(erpClaims('mallory-1')), 'bearer', {
      url: `${TOKEN_API}/list`,
    });
    expect(answer.statusCode).toBe(403);
  });

  it('answers the anonymous detail ({}) when no token and no credentials are presented', async () => {
    const response = await t.inject({ method: 'GET', url: DETAIL });
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 200,
      body: { success: true, data: {} },
    });
  });
});

describe('single sign-on: tokens signed by independent code', () => {
  let t: TestApp;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const hmacSecrets: Record<string, string> = {
    HS256: SECRET,
    HS384: `${SECRET}-384-0123456789abcdef`,
    HS512: `${SECRET}-512-0123456789abcdef0123456789abcdef`,
  };
  const configName: Record<string, string> = {
    HS256: 'ERP',
    HS384: 'ERP384',
    HS512: 'ERP512',
    RS256: 'ERP_RSA',
    ES256: 'ERP_EC',
  };

  /** A token of `algorithm` signed the way the ERP would, with or without kid. */
  function erpToken(algorithm: string, claims: Claims, withKid: boolean): string {
    const header = {
      alg: algorithm,
      typ: 'JWT',
      ...(withKid ? { kid: configName[algorithm] } : {}),
    };
    if (algorithm === 'RS256') return signAsymmetric(header, claims, rsa.privateKey, 'RS256');
    if (algorithm === 'ES256') return signAsymmetric(header, claims, ec.privateKey, 'ES256');
    return signHmacToken(header, claims, hmacSecrets[algorithm], algorithm);
  }

  beforeAll(async () => {
    t = await startTestApp();
    for (const algorithm of ['HS256', 'HS384', 'HS512']) {
      await saveConfig(t, {
        name: configName[algorithm],
        secret: hmacSecrets[algorithm],
        algorithm,
        enable: '1',
        fieldmap: { username: 'uid' },
      });
    }
    await saveConfig(t, {
      name: 'ERP_RSA',
      secret: spkiBase64(rsa.publicKey),
      algorithm: 'RS256',
      enable: '1',
      fieldmap: { username: 'uid' },
    });
    await saveConfig(t, {
      name: 'ERP_EC',
      secret: spkiBase64(ec.publicKey),
      algorithm: 'ES256',
      enable: '1',
      fieldmap: { username: 'uid' },
    });
  });
  afterAll(() => t.close());

  const cases = ['HS256', 'HS384', 'HS512', 'RS256', 'ES256'].flatMap((algorithm) =>
    [true, false].flatMap((withKid) =>
      DELIVERIES.map((delivery) => ({ algorithm, withKid, delivery })),
    ),
  );

  it.each(cases)(
    'accepts a $algorithm token signed with node:crypto (kid: $withKid) via $delivery and creates its user',
    async ({ algorithm, withKid, delivery }) => {
      const username = `${algorithm.toLowerCase()}-${withKid ? 'kid' : 'nokid'}-${delivery}`;
      const token = erpToken(algorithm, erpClaims(username), withKid);
      const { header } = decodeToken(token);
      expect({ alg: header.alg, kid: header.kid }).toEqual({
        alg: algorithm,
        kid: withKid ? configName[algorithm] : undefined,
      });
      const user = await signedInUser(t, token, delivery);
      expect(user).toMatchObject({ username, usertype: 'SYS_Reader', enabled: '1' });
      expect(await usersNamed(t, username)).toBe(1);
    },
  );

  it.each(['RS256', 'ES256'])(
    'refuses a %s token signed by another private key',
    async (algorithm) => {
      const stranger =
        algorithm === 'RS256'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const token = signAsymmetric(
        { alg: algorithm, typ: 'JWT', kid: configName[algorithm] },
        erpClaims(`stranger-${algorithm}`),
        stranger.privateKey,
        algorithm as 'RS256' | 'ES256',
      );
      for (const delivery of DELIVERIES) expectUnauthorized(await present(t, token, delivery));
      expect(await findUser(t, `stranger-${algorithm}`)).toBeNull();
    },
  );

  it.each(DELIVERIES)(
    'takes the username from the claim named after the configuration when the fieldmap claim is absent (golden-vector form, via %s)',
    async (delivery) => {
      const iat = nowSeconds();
      const username = `golden-${delivery}`;
      for (const withKid of [true, false]) {
        const token = signHmacToken(
          { typ: 'JWT', alg: 'HS256', ...(withKid ? { kid: 'ERP' } : {}) },
          { ERP: username, iat, exp: iat + 3600 },
          SECRET,
        );
        expect((await signedInUser(t, token, delivery)).username).toBe(username);
      }
      expect(await usersNamed(t, username)).toBe(1);
    },
  );

  it('prefers the fieldmap.username claim over the claim named after the configuration', async () => {
    const token = erpToken('ES256', erpClaims('by-fieldmap', { ERP_EC: 'by-name' }), true);
    expect((await signedInUser(t, token, 'bearer')).username).toBe('by-fieldmap');
    expect(await findUser(t, 'by-name')).toBeNull();
  });

  it('refuses a token that carries no username claim', async () => {
    const iat = nowSeconds();
    const token = erpToken('RS256', { sub: 'nobody', iat, exp: iat + 3600 }, true);
    for (const delivery of DELIVERIES) expectUnauthorized(await present(t, token, delivery));
  });
});

describe('single sign-on: refusals (401 with the envelope and the Basic challenge)', () => {
  let t: TestApp;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaSpki = spkiBase64(rsa.publicKey);
  const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

  beforeAll(async () => {
    t = await startTestApp({ env: { TOKEN_CLOCK_LEEWAY: '30' } });
    await saveConfig(t, ERP_CONFIG);
    await saveConfig(t, {
      name: 'ERP_RSA',
      secret: rsaSpki,
      algorithm: 'RS256',
      enable: '1',
      fieldmap: { username: 'uid' },
    });
    await saveConfig(t, {
      name: 'NOINIT',
      secret: OTHER_SECRET,
      enable: '1',
      inituser: '0',
      fieldmap: { username: 'uid' },
    });
  });
  afterAll(() => t.close());

  const refusals: [string, () => string][] = [
    [
      'an expired token (exp 60 s ago, beyond the 30 s leeway)',
      () => {
        const now = nowSeconds();
        return hs256(erpClaims('late', { iat: now - 3600, exp: now - 60 }));
      },
    ],
    [
      'a token not yet valid (nbf 60 s ahead, beyond the leeway)',
      () => hs256(erpClaims('early', { nbf: nowSeconds() + 60 })),
    ],
    [
      'a token signed with the wrong key',
      () => hs256(erpClaims('wrongkey'), 'ERP', `${SECRET}-not-really`),
    ],
    [
      'a token whose claims were changed after signing',
      () => {
        const [header, , signature] = hs256(erpClaims('alice')).split('.');
        return `${header}.${part(erpClaims(ADMIN.username))}.${signature}`;
      },
    ],
    [
      'a token with alg "none" and an empty signature',
      () => `${part({ alg: 'none' })}.${part(erpClaims('nobody-none'))}.`,
    ],
    [
      'a token with alg "none" and kid ERP',
      () => `${part({ alg: 'none', typ: 'JWT', kid: 'ERP' })}.${part(erpClaims('nobody-none'))}.`,
    ],
    [
      "an HS256 token keyed with the RS configuration's base64 public key (key confusion)",
      () => hs256(erpClaims('confused'), 'ERP_RSA', rsaSpki),
    ],
    [
      "an HS256 token keyed with the RS configuration's PEM public key (key confusion)",
      () => hs256(erpClaims('confused'), 'ERP_RSA', rsaPem),
    ],
    [
      'an HS256 token keyed with the RS public key, without kid',
      () => hs256(erpClaims('confused'), null, rsaSpki),
    ],
    ['a token whose kid names no configuration', () => hs256(erpClaims('alice'), 'NOPE')],
    [
      'a token for an unknown user of a configuration with inituser "0"',
      () => hs256(erpClaims('ghost'), 'NOINIT', OTHER_SECRET),
    ],
    ['garbage: abc', () => 'abc'],
    ['garbage: a.b.c', () => 'a.b.c'],
    ['garbage: random base64', () => randomBytes(48).toString('base64')],
  ];

  it.each(
    refusals.flatMap(([what, token]) => DELIVERIES.map((delivery) => ({ what, token, delivery }))),
  )('refuses $what via $delivery', async ({ token, delivery }) => {
    const usersBefore = await t.dataSource.getRepository(UserEntity).count();
    expectUnauthorized(await present(t, token(), delivery));
    expect(await t.dataSource.getRepository(UserEntity).count()).toBe(usersBefore);
  });

  it('accepts a token expired for less than the leeway and one whose nbf is within the leeway', async () => {
    const now = nowSeconds();
    const lately = hs256(erpClaims('within-exp', { iat: now - 3600, exp: now - 10 }));
    const early = hs256(erpClaims('within-nbf', { nbf: now + 10 }));
    expect((await signedInUser(t, lately, 'bearer')).username).toBe('within-exp');
    expect((await signedInUser(t, early, 'query')).username).toBe('within-nbf');
  });

  it('refuses the tokens of a configuration as soon as it is disabled', async () => {
    const config = { ...ERP_CONFIG, name: 'TEMP_DISABLE' };
    await saveConfig(t, config);
    const token = hs256(erpClaims('temp-disable-user'), 'TEMP_DISABLE');
    for (const delivery of DELIVERIES) await signedInUser(t, token, delivery);

    await saveConfig(t, { ...config, enable: '0' });
    for (const delivery of DELIVERIES) expectUnauthorized(await present(t, token, delivery));
  });

  it('refuses the tokens of a configuration as soon as it is deleted', async () => {
    await saveConfig(t, { ...ERP_CONFIG, name: 'TEMP_DELETE' });
    const token = hs256(erpClaims('temp-delete-user'), 'TEMP_DELETE');
    await signedInUser(t, token, 'bearer');

    const deleted = await t.admin('POST', `${TOKEN_API}/delete`, { name: 'TEMP_DELETE' });
    expect(deleted.statusCode).toBe(200);
    for (const delivery of DELIVERIES) expectUnauthorized(await present(t, token, delivery));
  });

  it('refuses the tokens of the old secret as soon as the secret changes, and accepts the new one', async () => {
    const config = { ...ERP_CONFIG, name: 'TEMP_ROTATE' };
    await saveConfig(t, config);
    const old = hs256(erpClaims('rotate-user'), 'TEMP_ROTATE');
    await signedInUser(t, old, 'query');

    await saveConfig(t, { ...config, secret: OTHER_SECRET });
    for (const delivery of DELIVERIES) expectUnauthorized(await present(t, old, delivery));
    const fresh = hs256(erpClaims('rotate-user'), 'TEMP_ROTATE', OTHER_SECRET);
    expect((await signedInUser(t, fresh, 'bearer')).username).toBe('rotate-user');
  });

  it('refuses the tokens of a user as soon as an admin disables the user', async () => {
    const token = hs256(erpClaims('soon-frozen'));
    await signedInUser(t, token, 'bearer');

    const disabled = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'soon-frozen',
      enabled: '0',
    });
    expect(disabled.statusCode).toBe(200);
    for (const delivery of DELIVERIES) expectUnauthorized(await present(t, token, delivery));
    expect(await findUser(t, 'soon-frozen')).toMatchObject({ enabled: false });
  });

  it('signs in a known user of a configuration with inituser "0"', async () => {
    const created = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'known-user',
      password: 'known-user-password',
    });
    expect(created.statusCode).toBe(200);
    const token = hs256(erpClaims('known-user'), 'NOINIT', OTHER_SECRET);
    expect((await signedInUser(t, token, 'bearer')).username).toBe('known-user');
  });
});

describe('single sign-on: a configured clock leeway', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { TOKEN_CLOCK_LEEWAY: '90' } });
    await saveConfig(t, ERP_CONFIG);
  });
  afterAll(() => t.close());

  it('accepts a token expired 60 s ago with TOKEN_CLOCK_LEEWAY=90 and refuses one expired 150 s ago', async () => {
    const now = nowSeconds();
    const recent = hs256(erpClaims('leeway-ok', { iat: now - 3600, exp: now - 60 }));
    const old = hs256(erpClaims('leeway-late', { iat: now - 3600, exp: now - 150 }));
    expect((await signedInUser(t, recent, 'bearer')).username).toBe('leeway-ok');
    expectUnauthorized(await present(t, old, 'bearer'));
  });
});

describe('single sign-on: revocation', () => {
  let t: TestApp;
  let offsetMs = 0;

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => Date.now() + offsetMs } });
    await saveConfig(t, ERP_CONFIG);
    await saveConfig(t, { ...ERP_CONFIG, name: 'OTHER' });
  });
  afterAll(() => t.close());
  afterEach(() => {
    offsetMs = 0;
  });

  it('refuses a token as soon as its jti is revoked, and only that token', async () => {
    const revoked = await mint(t, 'ERP', { username: 'alice' });
    const kept = await mint(t, 'ERP', { username: 'alice' });
    await signedInUser(t, revoked, 'bearer');

    await revoke(t, { jti: decodeToken(revoked).claims.jti });
    for (const delivery of DELIVERIES) expectUnauthorized(await present(t, revoked, delivery));
    expect((await signedInUser(t, kept, 'query')).username).toBe('alice');
  });

  it('refuses a self-signed token whose jti is revoked', async () => {
    const jti = randomUUID();
    const token = hs256(erpClaims('bob', { jti }));
    await signedInUser(t, token, 'query');
    await revoke(t, { jti });
    expectUnauthorized(await present(t, token, 'query'));
  });

  it('refuses the tokens of a configuration issued before a cutoff, and accepts one minted after it', async () => {
    offsetMs = -120_000;
    const older = await mint(t, 'ERP', { username: 'carol' });
    const otherConfig = await mint(t, 'OTHER', { username: 'carol' });
    offsetMs = 0;
    const selfSignedOlder = hs256(erpClaims('carol', { iat: nowSeconds() - 60 }));
    await signedInUser(t, older, 'bearer');
    await signedInUser(t, selfSignedOlder, 'bearer');

    const cutoff = nowSeconds();
    await revoke(t, { name: 'ERP', before: cutoff });
    for (const delivery of DELIVERIES) {
      expectUnauthorized(await present(t, older, delivery));
      expectUnauthorized(await present(t, selfSignedOlder, delivery));
    }
    expect((await signedInUser(t, otherConfig, 'bearer')).username).toBe('carol');

    offsetMs = 5_000;
    const newer = await mint(t, 'ERP', { username: 'carol' });
    expect(decodeToken(newer).claims.iat).toBeGreaterThan(cutoff);
    for (const delivery of DELIVERIES) {
      expect((await signedInUser(t, newer, delivery)).username).toBe('carol');
    }
  });

  it('records every revocation in the audit trail (action token.revoke), without the token', async () => {
    const token = await mint(t, 'OTHER', { username: 'dave' });
    const { jti } = decodeToken(token).claims;
    await revoke(t, { jti });
    await revoke(t, { name: 'OTHER', before: 1000 });

    const events = await t.dataSource
      .getRepository(AuditEventEntity)
      .findBy({ action: 'token.revoke' });
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: ADMIN.username,
          target: jti,
          outcome: 'success',
          details: expect.objectContaining({ kind: 'jti' }),
        }),
        expect.objectContaining({
          actor: ADMIN.username,
          target: 'OTHER',
          outcome: 'success',
          details: expect.objectContaining({ kind: 'before', before: 1000 }),
        }),
      ]),
    );
    expect(JSON.stringify(events)).not.toContain(token);
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });
});

describe('single sign-on: a token session never manages tokens or users (403)', () => {
  let t: TestApp;
  let bossToken: string;
  let readerToken: string;

  beforeAll(async () => {
    t = await startTestApp();
    await saveConfig(t, ERP_CONFIG);
    const boss = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'boss',
      password: 'boss-password-1',
      usertype: 'Administrator',
    });
    expect(boss.statusCode).toBe(200);
    bossToken = hs256({ ...erpClaims('boss'), exp: nowSeconds() + 86400 });
    readerToken = hs256({ ...erpClaims('reader'), exp: nowSeconds() + 86400 });
  });
  afterAll(() => t.close());

  const endpoints: [method: 'GET' | 'POST', path: string, payload: () => object | undefined][] = [
    [
      'POST',
      `${TOKEN_API}/generate`,
      () => ({
        name: 'ERP',
        privateKey: SECRET,
        payload: { username: 'minted-by-token' },
      }),
    ],
    ['POST', `${TOKEN_API}/update`, () => ({ ...ERP_CONFIG, secret: OTHER_SECRET, enable: '0' })],
    ['POST', `${TOKEN_API}/delete`, () => ({ name: 'ERP' })],
    ['POST', `${TOKEN_API}/revoke`, () => ({ name: 'ERP' })],
    ['POST', `${TOKEN_API}/verify`, () => ({ token: bossToken })],
    [
      'POST',
      `${USER_API}/insertOrUpdate`,
      () => ({
        username: 'reader',
        password: 'reader-password-1',
        usertype: 'Administrator',
      }),
    ],
    ['POST', `${USER_API}/delete`, () => ({ username: ADMIN.username })],
    ['GET', `${USER_API}/list`, () => undefined],
    ['GET', `${TOKEN_API}/list`, () => undefined],
  ];

  it('signs the Administrator and the reader in with their tokens (user/detail may be read)', async () => {
    expect(await signedInUser(t, bossToken, 'bearer')).toMatchObject({
      username: 'boss',
      usertype: 'Administrator',
    });
    expect(await signedInUser(t, readerToken, 'query')).toMatchObject({
      username: 'reader',
      usertype: 'SYS_Creator',
    });
  });

  it.each(
    endpoints.flatMap(([method, path, payload]) =>
      (['boss', 'reader'] as const).flatMap((who) =>
        DELIVERIES.map((delivery) => ({ method, path, payload, who, delivery })),
      ),
    ),
  )(
    'answers 403 to $method $path with the token of $who via $delivery',
    async ({ method, path, payload, who, delivery }) => {
      const token = who === 'boss' ? bossToken : readerToken;
      const response = await present(t, token, delivery, { method, url: path, payload: payload() });
      expect({ status: response.statusCode, body: response.json() }).toEqual({
        status: 403,
        body: { success: false, code: '403', msg: expect.stringMatching(/\S/) },
      });
    },
  );

  it('changed nothing through those refused calls', async () => {
    const config = await t.admin('GET', `${TOKEN_API}/content?name=ERP`);
    expect(config.json()).toMatchObject({ success: true, name: 'ERP', enable: '1' });
    expect(await findUser(t, 'minted-by-token')).toBeNull();
    expect(await findUser(t, 'reader')).toMatchObject({ usertype: 'SYS_Creator' });
    expect(await findUser(t, ADMIN.username)).toMatchObject({ enabled: true });
    expect((await signedInUser(t, bossToken, 'bearer')).username).toBe('boss');
    expect((await signedInUser(t, readerToken, 'bearer')).username).toBe('reader');
    const revocations = await t.dataSource
      .getRepository(AuditEventEntity)
      .countBy({ action: 'token.revoke' });
    expect(revocations).toBe(0);
  });

  it('lets the same Administrator manage tokens with HTTP Basic', async () => {
    const response = await t.inject({
      method: 'GET',
      url: `${TOKEN_API}/list`,
      headers: { authorization: `Basic ${Buffer.from('boss:boss-password-1').toString('base64')}` },
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('POST /token/verify (introspection)', () => {
  let t: TestApp;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaSpki = spkiBase64(rsa.publicKey);

  beforeAll(async () => {
    t = await startTestApp();
    await saveConfig(t, ERP_CONFIG);
    await saveConfig(t, {
      name: 'ERP_RSA',
      secret: rsaSpki,
      algorithm: 'RS256',
      enable: '1',
      fieldmap: { username: 'uid' },
    });
  });
  afterAll(() => t.close());

  const verify = (token: string) => t.admin('POST', `${TOKEN_API}/verify`, { token });

  it('answers active:true with the configuration, user, exp and jti of a valid token', async () => {
    const token = await mint(t, 'ERP', { username: 'alice' });
    const { claims } = decodeToken(token);
    const response = await verify(token);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      success: true,
      active: true,
      name: 'ERP',
      username: 'alice',
      exp: claims.exp,
      jti: claims.jti,
    });
    expect(response.json()).not.toHaveProperty('reason');
  });

  it('answers active:true for an RS256 token the ERP signed without kid', async () => {
    const claims = erpClaims('rs-user');
    const token = signAsymmetric({ alg: 'RS256', typ: 'JWT' }, claims, rsa.privateKey, 'RS256');
    expect((await verify(token)).json()).toMatchObject({
      success: true,
      active: true,
      name: 'ERP_RSA',
      username: 'rs-user',
      exp: claims.exp,
      jti: claims.jti,
    });
  });

  const inactive: [string, string, () => Promise<string> | string][] = [
    [
      'an expired token',
      'expired',
      () => {
        const now = nowSeconds();
        return hs256(erpClaims('alice', { iat: now - 7200, exp: now - 3600 }));
      },
    ],
    [
      'a token signed with another key',
      'bad signature',
      () => hs256(erpClaims('alice'), 'ERP', OTHER_SECRET),
    ],
    [
      'a token whose claims were changed',
      'bad signature',
      () => {
        const [header, , signature] = hs256(erpClaims('alice')).split('.');
        return `${header}.${part(erpClaims(ADMIN.username))}.${signature}`;
      },
    ],
    [
      'a token of an unknown configuration',
      'unknown configuration',
      () => hs256(erpClaims('alice'), 'NOPE'),
    ],
    [
      'a revoked token',
      'revoked',
      async () => {
        const token = await mint(t, 'ERP', { username: 'alice' });
        await revoke(t, { jti: decodeToken(token).claims.jti });
        return token;
      },
    ],
    ['garbage (abc)', 'malformed', () => 'abc'],
    ['garbage (a.b.c)', 'malformed', () => 'a.b.c'],
    [
      'an alg none token',
      'algorithm not allowed',
      () => `${part({ alg: 'none', kid: 'ERP' })}.${part(erpClaims('alice'))}.`,
    ],
    [
      'an HS256 token keyed with the RS public key',
      'algorithm not allowed',
      () => hs256(erpClaims('alice'), 'ERP_RSA', rsaSpki),
    ],
  ];

  it.each(inactive)('answers 200 active:false for %s, reason "%s"', async (_what, reason, make) => {
    const response = await verify(await make());
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 200,
      body: { success: true, active: false, reason },
    });
  });

  it('requires credentials (401 with the Basic challenge)', async () => {
    const token = await mint(t, 'ERP', { username: 'alice' });
    const response = await t.inject({
      method: 'POST',
      url: `${TOKEN_API}/verify`,
      payload: { token },
    });
    expectUnauthorized(response);
  });
});

describe('the OpenAPI document of single sign-on', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('declares the security schemes bearer (http bearer) and token-query (apiKey in query), used by user/detail', async () => {
    const response = await t.inject({ method: 'GET', url: '/api-docs-json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.components.securitySchemes).toMatchObject({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      'token-query': expect.objectContaining({ type: 'apiKey', in: 'query' }),
    });
    expect(doc.paths[DETAIL].get.security).toEqual(
      expect.arrayContaining([{ bearer: [] }, { 'token-query': [] }]),
    );
  });
});
