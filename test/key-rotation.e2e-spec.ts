/**
 * Key versions: rotation with an overlap, retirement, service-held key pairs and the JWKS. Minted
 * tokens are checked with node:crypto (HMAC, RSA, EC) and with jose's createRemoteJWKSet against
 * the app listening on a loopback port, never only with the service's own code.
 */
import { createPublicKey, generateKeyPairSync, sign as signWith, verify } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { AuditEventEntity } from '../src/audit/entities/audit-event.entity';
import { TokenConfigEntity } from '../src/token/entities/token-config.entity';
import { TokenKeyEntity } from '../src/token/entities/token-key.entity';
import { MAX_LIVE_KEY_VERSIONS } from '../src/token/token.constants';
import { decodeToken, signHmacToken, verifyHmacToken } from './support/jwt';
import { startTestApp, type TestApp, TOKEN_API, USER_API } from './support/test-app';

const OLD = 'erp-secret-before-rotation-0123456789ab';
const NEW = 'erp-secret-after-rotation-0123456789abcd';
const CREDENTIAL = 'erp-credential-for-service-keys-012345';
const JWKS_MAX_AGE = 2;

describe('key versions: rotate, retire, service-held keys and the JWKS', () => {
  let t: TestApp;
  let now = Date.now();
  let origin: string;

  beforeAll(async () => {
    t = await startTestApp({
      clock: { now: () => now },
      env: { JWKS_MAX_AGE: String(JWKS_MAX_AGE) },
    });
    await t.app.listen(0, '127.0.0.1');
    const address = t.app.getHttpServer().address() as { port: number };
    origin = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => t.close());
  afterEach(() => {
    now = Date.now();
  });

  const post = (path: string, body: object) => t.admin('POST', `${TOKEN_API}/${path}`, body);
  const mint = (name: string, privateKey: string, username = 'alice') =>
    post('generate', { name, privateKey, payload: { username } });
  /** Whether a token signs its user in: a 200 from user/detail with it as a bearer token. */
  const signsIn = async (token: string) =>
    (
      await t.inject({
        method: 'GET',
        url: `${USER_API}/detail`,
        headers: { authorization: `Bearer ${token}` },
      })
    ).statusCode;
  const introspect = async (token: string) => (await post('verify', { token })).json();
  const jwks = () => t.inject({ method: 'GET', url: '/.well-known/jwks.json' });

  describe('an issuer-held HMAC key', () => {
    beforeAll(async () => {
      now = Date.now();
      const saved = await post('update', {
        name: 'ERP',
        secret: OLD,
        enable: '1',
        expire: 3600,
        fieldmap: { username: 'uid' },
      });
      expect(saved.statusCode).toBe(200);
    });

    it('rotates: the old tokens and the old secret keep working for the overlap, new tokens carry the new kid', async () => {
      const before = (await mint('ERP', OLD)).json().token as string;
      expect(decodeToken(before).header.kid).toBe('ERP');

      const rotated = await post('rotate', { name: 'ERP', secret: NEW, overlap: 600 });
      expect(rotated.statusCode).toBe(200);
      const body = rotated.json();
      expect(body).toEqual({
        success: true,
        kid: expect.stringMatching(/^ERP\.[A-Za-z0-9_-]{8}$/),
        signsFrom: Math.floor(now / 1000),
        previous: { kid: 'ERP', retires: Math.floor(now / 1000) + 600 },
      });
      expect(rotated.body).not.toContain(NEW);

      // The ERP may not have switched yet: either secret mints, always with the new key.
      for (const privateKey of [OLD, NEW]) {
        const token = (await mint('ERP', privateKey)).json().token as string;
        const { header } = verifyHmacToken(token, NEW);
        expect(header.kid).toBe(body.kid);
        expect(() => verifyHmacToken(token, OLD)).toThrow('bad signature');
        expect(await signsIn(token)).toBe(200);
      }
      expect(await signsIn(before)).toBe(200);
      expect(await introspect(before)).toMatchObject({ active: true, name: 'ERP' });

      // An issuer that signs its own tokens may name the configuration, a version, or nothing.
      const claims = { uid: 'alice', exp: Math.floor(now / 1000) + 60 };
      for (const header of [
        { alg: 'HS256', kid: 'ERP' },
        { alg: 'HS256', kid: body.kid },
        { alg: 'HS256' },
      ]) {
        expect(await signsIn(signHmacToken(header, claims, NEW))).toBe(200);
        expect(await signsIn(signHmacToken(header, claims, OLD))).toBe(
          header.kid === body.kid ? 401 : 200,
        );
      }

      const shown = (await t.admin('GET', `${TOKEN_API}/content?name=ERP`)).json();
      expect(shown.keys).toEqual([
        { kid: body.kid, created: expect.any(Number), signsFrom: body.signsFrom },
        {
          kid: 'ERP',
          created: expect.any(Number),
          signsFrom: expect.any(Number),
          retires: body.previous.retires,
        },
      ]);
      expect(JSON.stringify(shown)).not.toContain(OLD);
      expect(JSON.stringify(shown)).not.toContain(NEW);
    });

    it('retires the previous key by itself when the overlap ends', async () => {
      const before = (await mint('ERP', OLD)).json().token as string;
      const retires = (await t.admin('GET', `${TOKEN_API}/content?name=ERP`)).json().keys[1]
        .retires as number;
      const oldToken = signHmacToken(
        { alg: 'HS256', kid: 'ERP' },
        { uid: 'alice', exp: retires + 3000 },
        OLD,
      );
      now = retires * 1000 - 1000;
      expect(await signsIn(oldToken)).toBe(200);
      now = (retires + 1) * 1000;
      expect(await signsIn(oldToken)).toBe(401);
      expect(await introspect(oldToken)).toEqual({
        success: true,
        active: false,
        reason: 'bad signature',
      });
      expect((await mint('ERP', OLD)).statusCode).toBe(400);
      expect(await signsIn(before)).toBe(200);
      const keys = (await t.admin('GET', `${TOKEN_API}/content?name=ERP`)).json().keys;
      expect(keys.map((key: { kid: string }) => key.kid)).toHaveLength(1);
    });

    it('retires at once on token/retire: the previous tokens are refused like a bad signature, its secret like a wrong privateKey', async () => {
      // After the first overlap (the clock of the last test went back to now with its afterEach).
      now = Date.now() + 700_000;
      const third = 'erp-secret-third-version-0123456789abcdef';
      const fromNew = (await mint('ERP', NEW)).json().token as string;
      const rotated = (await post('rotate', { name: 'ERP', secret: third })).json();
      // Default overlap: the configuration's expire.
      expect(rotated.previous.retires).toBe(Math.floor(now / 1000) + 3600);
      expect(await signsIn(fromNew)).toBe(200);
      expect((await mint('ERP', NEW)).statusCode).toBe(200);

      // Per kid, for the live versions only: the operator sees who still uses the previous key.
      // A scrape shows what the instance has loaded (it never queries the store itself): the
      // scrape after a change shows it.
      const series = (kid: string) =>
        new RegExp(
          `datafor_token_key_verifications_total\\{configuration="ERP",kid="${kid.replace('.', '\\.')}"\\} (\\d+)`,
        );
      const scrapeUntil = async (shows: (text: string) => boolean) => {
        let text = (await t.inject({ method: 'GET', url: '/metrics' })).body;
        for (let attempt = 1; attempt < 20 && !shows(text); attempt++) {
          await new Promise((done) => setTimeout(done, 50));
          text = (await t.inject({ method: 'GET', url: '/metrics' })).body;
        }
        return text;
      };
      const before = await scrapeUntil((text) => series(rotated.kid).test(text));
      expect(Number(series(rotated.previous.kid).exec(before)?.[1])).toBeGreaterThanOrEqual(1);
      expect(series(rotated.kid).exec(before)?.[1]).toBe('0');

      const retired = await post('retire', { name: 'ERP' });
      expect(retired.statusCode).toBe(200);
      const after = await scrapeUntil((text) => !series(rotated.previous.kid).test(text));
      expect(series(rotated.previous.kid).test(after)).toBe(false);
      expect(series(rotated.kid).test(after)).toBe(true);
      expect(after).toMatch(
        /datafor_token_key_changes_total\{configuration="ERP",change="retire"\} 1/,
      );
      expect(retired.json()).toEqual({ success: true, retired: [rotated.previous.kid] });
      expect(await signsIn(fromNew)).toBe(401);
      expect(await introspect(fromNew)).toEqual({
        success: true,
        active: false,
        reason: 'bad signature',
      });
      const refused = await mint('ERP', NEW);
      expect(refused.statusCode).toBe(400);
      expect(refused.json().msg).toContain('privateKey');
      expect((await mint('ERP', third)).statusCode).toBe(200);
      // Nothing left to retire.
      expect((await post('retire', { name: 'ERP' })).json()).toEqual({
        success: true,
        retired: [],
      });

      const audit = await t.dataSource.getRepository(AuditEventEntity).find({
        where: [{ action: 'token.rotate' }, { action: 'token.retire' }],
        order: { id: 'ASC' },
      });
      expect(audit.map((row) => row.action)).toEqual([
        'token.rotate',
        'token.rotate',
        'token.retire',
        'token.retire',
      ]);
      for (const row of audit) {
        expect(JSON.stringify(row)).not.toContain(OLD);
        expect(JSON.stringify(row)).not.toContain(NEW);
      }
    });

    it('refuses bad rotations with a 4xx and the envelope, and changes nothing', async () => {
      const before = (await t.admin('GET', `${TOKEN_API}/content?name=ERP`)).json();
      const cases: [object, number, string][] = [
        [{ name: 'ERP' }, 400, 'secret is required'],
        [{ name: 'ERP', secret: NEW, overlap: -1 }, 400, 'overlap must be at least 0'],
        [{ name: 'ERP', secret: NEW, overlap: 1e9 }, 400, 'overlap must be at most'],
        [{ name: 'ERP', secret: NEW, overlap: 'soon' }, 400, 'overlap must be a whole number'],
        [{ name: 'nobody', secret: NEW }, 404, 'nobody does not exist'],
        [{ name: 'bad name', secret: NEW }, 400, 'name must be'],
      ];
      for (const [body, status, message] of cases) {
        const answer = await post('rotate', body);
        expect({ body, status: answer.statusCode }).toEqual({ body, status });
        expect(answer.json()).toMatchObject({ success: false, code: String(status) });
        expect(answer.json().msg).toContain(message);
      }
      expect((await post('retire', { name: 'nobody' })).statusCode).toBe(404);
      expect((await t.admin('GET', `${TOKEN_API}/content?name=ERP`)).json()).toEqual(before);
    });

    it('refuses a rotation to the current secret', async () => {
      const current = 'erp-secret-third-version-0123456789abcdef';
      const answer = await post('rotate', { name: 'ERP', secret: current });
      expect(answer.statusCode).toBe(400);
      expect(answer.json().msg).toBe('secret must differ from the current one');
    });
  });

  describe('the live versions of a configuration', () => {
    it(`are at most ${MAX_LIVE_KEY_VERSIONS}: one more rotation answers 409 and changes nothing, until token/retire`, async () => {
      now = Date.now();
      expect(MAX_LIVE_KEY_VERSIONS).toBe(4);
      const secrets = Array.from(
        { length: 7 },
        (_, i) => `cap-secret-${i}-0123456789abcdefghijklm`,
      );
      expect(
        (await post('update', { name: 'CAP', secret: secrets[0], enable: '1' })).statusCode,
      ).toBe(200);
      for (const secret of secrets.slice(1, 4))
        expect((await post('rotate', { name: 'CAP', secret, overlap: 3600 })).statusCode).toBe(200);
      const shown = (await t.admin('GET', `${TOKEN_API}/content?name=CAP`)).json();
      expect(shown.keys).toHaveLength(4);
      const row = await t.dataSource
        .getRepository(TokenConfigEntity)
        .findOneByOrFail({ name: 'CAP' });
      const rows = await t.dataSource.getRepository(TokenKeyEntity).findBy({ configName: 'CAP' });
      const rotations = () =>
        t.dataSource
          .getRepository(AuditEventEntity)
          .countBy({ action: 'token.rotate', target: 'CAP' });
      const rotated = await rotations();

      const refused = await post('rotate', { name: 'CAP', secret: secrets[4], overlap: 3600 });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toEqual({
        success: false,
        code: '409',
        msg: 'token configuration CAP has 4 live key versions, the most it may have: token/retire ends the previous ones',
      });
      expect(refused.body).not.toContain(secrets[4]);
      // Nothing stored changed: the row, its previous versions, the audit trail; the secret refused mints nothing.
      expect((await t.admin('GET', `${TOKEN_API}/content?name=CAP`)).json()).toEqual(shown);
      expect(
        await t.dataSource.getRepository(TokenConfigEntity).findOneByOrFail({ name: 'CAP' }),
      ).toEqual(row);
      expect(
        await t.dataSource.getRepository(TokenKeyEntity).findBy({ configName: 'CAP' }),
      ).toEqual(rows);
      expect(await rotations()).toBe(rotated);
      expect((await mint('CAP', secrets[4])).statusCode).toBe(400);
      for (const secret of secrets.slice(0, 4))
        expect((await mint('CAP', secret)).statusCode).toBe(200);

      // A rotation whose overlap is 0 leaves as many live: the current version retires at once.
      const swapped = await post('rotate', { name: 'CAP', secret: secrets[4], overlap: 0 });
      expect(swapped.statusCode).toBe(200);
      expect((await mint('CAP', secrets[3])).statusCode).toBe(400);
      expect((await t.admin('GET', `${TOKEN_API}/content?name=CAP`)).json().keys).toHaveLength(4);

      // Retired, the previous versions make room again.
      const retired = await post('retire', { name: 'CAP' });
      expect(retired.json().retired).toHaveLength(3);
      const again = await post('rotate', { name: 'CAP', secret: secrets[5], overlap: 3600 });
      expect(again.statusCode).toBe(200);
      const token = (await mint('CAP', secrets[4])).json().token as string;
      expect(verifyHmacToken(token, secrets[5]).header.kid).toBe(again.json().kid);
      expect((await t.admin('GET', `${TOKEN_API}/content?name=CAP`)).json().keys).toHaveLength(2);
    });

    it('counts the pairs of a service-held key still signing or waiting to sign, whatever the overlap', async () => {
      now = Date.now();
      expect(
        (
          await post('update', {
            name: 'CAPPED',
            algorithm: 'ES256',
            keyholder: 'service',
            secret: CREDENTIAL,
            enable: '1',
          })
        ).statusCode,
      ).toBe(200);
      // Even with an overlap of 0, the previous pair signs until the next one does.
      for (let i = 0; i < MAX_LIVE_KEY_VERSIONS - 1; i++)
        expect((await post('rotate', { name: 'CAPPED', overlap: 0 })).statusCode).toBe(200);
      const before = (await jwks()).json();
      const capped = before.keys.filter((key: { kid: string }) => key.kid.startsWith('CAPPED.'));
      expect(capped).toHaveLength(MAX_LIVE_KEY_VERSIONS);
      const refused = await post('rotate', { name: 'CAPPED', overlap: 0 });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().msg).toContain('has 4 live key versions');
      expect((await jwks()).json()).toEqual(before);
      // The JWKS of the tests below holds their configurations only.
      expect((await post('delete', { name: 'CAPPED' })).statusCode).toBe(200);
    });
  });

  describe('concurrent rotations of one configuration', () => {
    it('keeps every acknowledged version: each rotation applies to the version it read, or answers 409, beside saves', async () => {
      now = Date.now();
      const first = 'race-secret-first-version-0123456789abcdef';
      expect((await post('update', { name: 'RACE', secret: first, enable: '1' })).statusCode).toBe(
        200,
      );
      const secrets = Array.from(
        { length: 60 },
        (_, i) => `race-secret-${i}-0123456789abcdefghijklmnop`,
      );
      // Saves that keep the key, interleaved: one never undoes a rotation committed after it read.
      const [answers, saves] = await Promise.all([
        Promise.all(
          secrets.map((secret) => post('rotate', { name: 'RACE', secret, overlap: 3600 })),
        ),
        Promise.all(
          secrets.map((_, i) => post('update', { name: 'RACE', enable: '1', expire: 600 + i })),
        ),
      ]);
      expect(saves.map((save) => save.statusCode)).toEqual(saves.map(() => 200));
      const statuses = answers.map((answer) => answer.statusCode);
      expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
      const won = answers
        .filter((answer) => answer.statusCode === 200)
        .map((answer) => answer.json());
      expect(won.length).toBeGreaterThan(0);
      expect(won.length).toBeLessThanOrEqual(MAX_LIVE_KEY_VERSIONS - 1);
      // The acknowledged rotations form one chain: each one's previous is another's new kid (or the first).
      const kids = new Set(won.map((body) => body.kid as string));
      expect(kids.size).toBe(won.length);
      const keys = (await t.admin('GET', `${TOKEN_API}/content?name=RACE`)).json().keys as {
        kid: string;
      }[];
      expect(keys).toHaveLength(won.length + 1);
      expect(new Set(keys.map((key) => key.kid))).toEqual(new Set(['RACE', ...kids]));
      // Each version was superseded once, by exactly one acknowledged rotation; the last is current.
      const superseded = won.map((body) => body.previous.kid as string);
      expect(new Set(superseded).size).toBe(superseded.length);
      expect(new Set(superseded)).toEqual(
        new Set(['RACE', ...kids].filter((kid) => kid !== keys[0].kid)),
      );
      // Every acknowledged secret, and the first, still mints: all are live versions.
      const winners = secrets.filter((_, i) => statuses[i] === 200);
      for (const secret of [first, ...winners])
        expect((await mint('RACE', secret)).statusCode).toBe(200);
      const retired = (await post('retire', { name: 'RACE' })).json().retired as string[];
      expect(retired).toHaveLength(won.length);
      expect((await mint('RACE', first)).statusCode).toBe(400);
    });
  });

  describe('a key replaced by token/update', () => {
    const kidPattern = /^KIDS\.[A-Za-z0-9_-]{8}$/;
    const shownKids = async () =>
      (
        (await t.admin('GET', `${TOKEN_API}/content?name=KIDS`)).json().keys as { kid: string }[]
      ).map((key) => key.kid);
    const signed = (kid: string | undefined, secret: string) =>
      signHmacToken(
        kid === undefined ? { alg: 'HS256' } : { alg: 'HS256', kid },
        { KIDS: 'alice', exp: Math.floor(now / 1000) + 60 },
        secret,
      );

    it('gets a kid of its own, never one of an earlier version; the name still stands for every live version', async () => {
      now = Date.now();
      const [first, second, third, fourth] = ['first', 'second', 'third', 'fourth'].map(
        (n) => `kids-secret-${n}-0123456789abcdefghijklmn`,
      );
      expect((await post('update', { name: 'KIDS', secret: first, enable: '1' })).statusCode).toBe(
        200,
      );
      // The first key is the configuration's name.
      expect(await shownKids()).toEqual(['KIDS']);
      expect(decodeToken((await mint('KIDS', first)).json().token).header.kid).toBe('KIDS');

      const rotated = (await post('rotate', { name: 'KIDS', secret: second })).json();
      expect(rotated.kid).toMatch(kidPattern);

      // An update with a new secret replaces the key at once, under a new kid.
      expect((await post('update', { name: 'KIDS', secret: third, enable: '1' })).statusCode).toBe(
        200,
      );
      const [replaced, ...others] = await shownKids();
      expect(others).toEqual([]);
      expect(replaced).toMatch(kidPattern);
      expect(replaced).not.toBe(rotated.kid);
      const minted = (await mint('KIDS', third)).json().token as string;
      expect(verifyHmacToken(minted, third).header.kid).toBe(replaced);
      expect(await signsIn(minted)).toBe(200);

      // An ERP that signs its own tokens: the name or no kid tries each live version, the new
      // kid its version; the kids of the replaced versions name no key any more.
      expect(await signsIn(signed('KIDS', third))).toBe(200);
      expect(await signsIn(signed(undefined, third))).toBe(200);
      expect(await signsIn(signed(replaced, third))).toBe(200);
      expect(await signsIn(signed(rotated.kid, third))).toBe(401);
      expect(await signsIn(signed('KIDS', second))).toBe(401);

      // The stored secret sent again, or masked, is no new key: the kid and an overlap stay.
      const again = (await post('rotate', { name: 'KIDS', secret: fourth })).json();
      for (const secret of [fourth, '************']) {
        expect((await post('update', { name: 'KIDS', secret, enable: '1' })).statusCode).toBe(200);
        expect(await shownKids()).toEqual([again.kid, replaced]);
      }
      expect(await signsIn(minted)).toBe(200);
      expect(await signsIn(signed(again.kid, fourth))).toBe(200);
    });

    it('gets a kid of its own on a keyholder switch either way, and on a new pair of another algorithm', async () => {
      now = Date.now();
      const [before] = await shownKids();
      const fields = { name: 'KIDS', enable: '1', fieldmap: { username: 'KIDS' } };
      const toService = { ...fields, algorithm: 'RS256', keyholder: 'service', secret: CREDENTIAL };
      expect((await post('update', toService)).statusCode).toBe(200);
      const [rs256] = await shownKids();
      expect(rs256).toMatch(kidPattern);
      expect(rs256).not.toBe(before);
      const es256 = { ...toService, algorithm: 'ES256' };
      expect((await post('update', es256)).statusCode).toBe(200);
      const [ec] = await shownKids();
      expect(ec).toMatch(kidPattern);
      expect([before, rs256]).not.toContain(ec);
      const pairToken = (await mint('KIDS', CREDENTIAL)).json().token as string;
      expect(decodeProtectedHeader(pairToken).kid).toBe(ec);

      // Back to an issuer-held HMAC secret: a new kid, not the bare name nor the pair's.
      const back = 'kids-secret-back-0123456789abcdefghijklmno';
      const saved = await post('update', {
        ...fields,
        algorithm: 'HS256',
        keyholder: 'issuer',
        secret: back,
      });
      expect(saved.statusCode).toBe(200);
      const [issuer, ...others] = await shownKids();
      expect(others).toEqual([]);
      expect(issuer).toMatch(kidPattern);
      expect([before, rs256, ec]).not.toContain(issuer);
      const minted = (await mint('KIDS', back)).json().token as string;
      expect(verifyHmacToken(minted, back).header.kid).toBe(issuer);
      expect(await signsIn(minted)).toBe(200);
      expect(await signsIn(signed('KIDS', back))).toBe(200);
      expect(await signsIn(signed(ec, back))).toBe(401);
      expect(await signsIn(pairToken)).toBe(401);
      const audit = await t.dataSource.getRepository(AuditEventEntity).find({
        where: { action: 'token.update', target: 'KIDS' },
        order: { id: 'DESC' },
        take: 1,
      });
      expect(audit[0].details).toMatchObject({ kid: issuer, secretChanged: true });
    });
  });

  describe("on the service's clock, not the host's", () => {
    it('loads the versions live at the clock it is given: an overlap that ended by wall-clock time still verifies', async () => {
      // Two hours behind the wall clock: the overlap ends an hour before the host's "now".
      now = Date.now() - 2 * 3600_000;
      const first = 'clock-secret-first-0123456789abcdefghij';
      const second = 'clock-secret-second-0123456789abcdefghi';
      expect(
        (await post('update', { name: 'CLOCKED', secret: first, enable: '1' })).statusCode,
      ).toBe(200);
      const rotated = await post('rotate', { name: 'CLOCKED', secret: second, overlap: 3600 });
      expect(rotated.statusCode).toBe(200);
      const { kid, previous } = rotated.json();
      expect(previous.retires * 1000).toBeLessThan(Date.now());

      const claims = { CLOCKED: 'alice', exp: Math.floor(now / 1000) + 60 };
      const fromFirst = signHmacToken({ alg: 'HS256', kid: 'CLOCKED' }, claims, first);
      expect(await signsIn(fromFirst)).toBe(200);
      const minted = await mint('CLOCKED', first);
      expect(minted.statusCode).toBe(200);
      expect(verifyHmacToken(minted.json().token, second).header.kid).toBe(kid);

      // Past the overlap on the service's clock, the first secret is refused.
      now = previous.retires * 1000 + 1000;
      const late = { CLOCKED: 'alice', exp: Math.floor(now / 1000) + 60 };
      expect(await signsIn(signHmacToken({ alg: 'HS256', kid: 'CLOCKED' }, late, first))).toBe(401);
      expect((await mint('CLOCKED', first)).statusCode).toBe(400);
      expect((await mint('CLOCKED', second)).statusCode).toBe(200);
    });
  });

  describe('an issuer-held public key', () => {
    it('verifies the tokens of both the previous and the new public key during the overlap', async () => {
      now = Date.now();
      const first = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const second = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const spki = (pair: typeof first) =>
        pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
      const es256 = (pair: typeof first, kid: string) => {
        const head = Buffer.from(JSON.stringify({ alg: 'ES256', kid })).toString('base64url');
        const body = Buffer.from(
          JSON.stringify({ PORTAL: 'alice', exp: Math.floor(now / 1000) + 600 }),
        ).toString('base64url');
        const signature = signWith('sha256', Buffer.from(`${head}.${body}`), {
          key: pair.privateKey,
          dsaEncoding: 'ieee-p1363',
        });
        return `${head}.${body}.${signature.toString('base64url')}`;
      };
      expect(
        (
          await post('update', {
            name: 'PORTAL',
            algorithm: 'ES256',
            secret: spki(first),
            enable: '1',
          })
        ).statusCode,
      ).toBe(200);
      const rotated = await post('rotate', { name: 'PORTAL', secret: spki(second) });
      expect(rotated.statusCode).toBe(200);
      expect(await signsIn(es256(first, 'PORTAL'))).toBe(200);
      expect(await signsIn(es256(second, 'PORTAL'))).toBe(200);
      expect(await signsIn(es256(second, rotated.json().kid))).toBe(200);
      // A public key of the wrong curve is refused as update refuses it.
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const wrong = await post('rotate', { name: 'PORTAL', secret: spki(rsa as never) });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json().msg).toContain('must be an EC public key');
      // Its keys never appear in the JWKS, nor does the HMAC secret of ERP.
      expect(JSON.stringify((await jwks()).json())).not.toMatch(/PORTAL|ERP/);
      // An issuer-held key signs nothing here: the issuer holds the private key.
      expect((await mint('PORTAL', spki(second))).statusCode).toBe(400);
    });
  });

  describe('a service-held key', () => {
    let kid: string;

    it('makes a key pair, signs mints with it and publishes its public key', async () => {
      now = Date.now();
      const refused = await post('update', {
        name: 'HSVC',
        algorithm: 'HS256',
        keyholder: 'service',
        secret: CREDENTIAL,
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().msg).toContain('keyholder must be "issuer" for HS256');

      const saved = await post('update', {
        name: 'BI',
        algorithm: 'RS256',
        keyholder: 'service',
        secret: CREDENTIAL,
        enable: '1',
        fieldmap: { username: 'sub' },
      });
      expect(saved.statusCode).toBe(200);
      const shown = (await t.admin('GET', `${TOKEN_API}/content?name=BI`)).json();
      expect(shown.keyholder).toBe('service');
      kid = shown.keys[0].kid;
      expect(kid).toMatch(/^BI\.[A-Za-z0-9_-]{8}$/);

      const set = await jwks();
      expect(set.statusCode).toBe(200);
      expect(set.headers['cache-control']).toBe(`public, max-age=${JWKS_MAX_AGE}`);
      const [jwk] = set.json().keys;
      expect(set.json().keys).toHaveLength(1);
      expect(jwk).toEqual({
        kty: 'RSA',
        kid,
        alg: 'RS256',
        use: 'sig',
        n: expect.any(String),
        e: 'AQAB',
      });
      expect(Buffer.from(jwk.n, 'base64url').length).toBeGreaterThanOrEqual(256);
      expect(JSON.stringify(set.json())).not.toMatch(/"d"|"p"|"q"/);

      // A wrong credential mints nothing; the right one mints a token node:crypto verifies.
      expect((await mint('BI', 'not-the-credential-0123456789abcdefgh')).statusCode).toBe(400);
      const token = (await mint('BI', CREDENTIAL)).json().token as string;
      const [head, body, signature] = token.split('.');
      expect(decodeToken(token).header).toEqual({ alg: 'RS256', typ: 'JWT', kid });
      const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
      expect(
        verify(
          'sha256',
          Buffer.from(`${head}.${body}`),
          publicKey,
          Buffer.from(signature, 'base64url'),
        ),
      ).toBe(true);
      expect(await signsIn(token)).toBe(200);
    });

    it('is verified by jose through the JWKS across two rotations, by a consumer that caches the set for max-age', async () => {
      const keySet = createRemoteJWKSet(new URL(`${origin}/.well-known/jwks.json`), {
        cacheMaxAge: JWKS_MAX_AGE * 1000,
        cooldownDuration: JWKS_MAX_AGE * 1000,
      });
      const seen = new Set<string>();
      const mintAndCheck = async () => {
        const token = (await mint('BI', CREDENTIAL)).json().token as string;
        const { payload, protectedHeader } = await jwtVerify(token, keySet, {
          algorithms: ['RS256'],
        });
        expect(payload.sub).toBe('alice');
        seen.add(protectedHeader.kid as string);
        return protectedHeader.kid as string;
      };
      expect(await mintAndCheck()).toBe(kid);
      for (let rotation = 0; rotation < 2; rotation++) {
        now = Date.now();
        const rotated = await post('rotate', { name: 'BI', overlap: 60 });
        expect(rotated.statusCode).toBe(200);
        const { kid: next, signsFrom, previous } = rotated.json();
        expect(previous.kid).toBe(kid);
        // Published at once, signing only after max-age (and 2 s for the fleet to hear of it).
        expect(signsFrom).toBe(Math.floor(now / 1000) + JWKS_MAX_AGE + 2);
        expect((await jwks()).json().keys.map((key: { kid: string }) => key.kid)).toContain(next);
        expect(await mintAndCheck()).toBe(kid);
        // Real time passes (jose's cache is on the real clock), then the new key signs.
        await new Promise((done) => setTimeout(done, (JWKS_MAX_AGE + 2) * 1000 + 100));
        now = Date.now();
        expect(await mintAndCheck()).toBe(next);
        kid = next;
      }
      expect(seen.size).toBe(3);
      // A service-held configuration takes no secret at rotation: its pairs are the service's.
      const refused = await post('rotate', { name: 'BI', secret: NEW });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().msg).toContain(
        'secret is not accepted for a service-held configuration',
      );
    });

    it('drops a retired key from the JWKS and refuses its tokens', async () => {
      now = Date.now();
      const old = (await mint('BI', CREDENTIAL)).json().token as string;
      const oldKid = decodeProtectedHeader(old).kid;
      const rotated = (await post('rotate', { name: 'BI' })).json();
      // A leaked key: retiring it makes the new key sign at once.
      const retired = (await post('retire', { name: 'BI' })).json();
      expect(retired.retired).toContain(oldKid);
      const kids = (await jwks()).json().keys.map((key: { kid: string }) => key.kid);
      expect(kids).toEqual([rotated.kid]);
      expect(await signsIn(old)).toBe(401);
      const fresh = (await mint('BI', CREDENTIAL)).json().token as string;
      expect(decodeProtectedHeader(fresh).kid).toBe(rotated.kid);
      expect(await signsIn(fresh)).toBe(200);
    });

    it('switches between issuer-held and service-held keys only with the secret sent again, dropping the private key', async () => {
      now = Date.now();
      const issuer = 'switch-secret-issuer-0123456789abcdefghij';
      const fields = { name: 'SWITCH', enable: '1', fieldmap: { username: 'sub' } };
      expect((await post('update', { ...fields, secret: issuer })).statusCode).toBe(200);
      const refused = await post('update', { ...fields, algorithm: 'RS384', keyholder: 'service' });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().msg).toBe(
        'secret must be sent again when the keyholder changes from issuer to service',
      );
      const turned = await post('update', {
        ...fields,
        algorithm: 'RS384',
        keyholder: 'service',
        secret: CREDENTIAL,
      });
      expect(turned.statusCode).toBe(200);
      const kid = (await t.admin('GET', `${TOKEN_API}/content?name=SWITCH`)).json().keys[0].kid;
      expect((await jwks()).json().keys.map((key: { kid: string }) => key.kid)).toContain(kid);
      const token = (await mint('SWITCH', CREDENTIAL)).json().token as string;
      expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS384', kid });

      // Back to an issuer-held public key: the service's pair is gone from the row and the JWKS.
      const pair = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
      const spki = pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
      const back = await post('update', {
        ...fields,
        algorithm: 'ES384',
        keyholder: 'issuer',
        secret: spki,
      });
      expect(back.statusCode).toBe(200);
      const row = await t.dataSource
        .getRepository(TokenConfigEntity)
        .findOneByOrFail({ name: 'SWITCH' });
      expect(row.signingKeySealed).toBeNull();
      expect((await jwks()).json().keys.map((key: { kid: string }) => key.kid)).not.toContain(kid);
      expect(await signsIn(token)).toBe(401);
    });

    it('stores a new credential sent to update, keeping the pair: the old credential no longer mints', async () => {
      now = Date.now();
      const leaked = 'cred-leaked-credential-0123456789abcdefgh';
      const fresh = 'cred-fresh-credential-0123456789abcdefghi';
      const fields = {
        name: 'CRED',
        algorithm: 'RS256',
        enable: '1',
        fieldmap: { username: 'sub' },
      };
      expect(
        (await post('update', { ...fields, keyholder: 'service', secret: leaked })).statusCode,
      ).toBe(200);
      const before = await mint('CRED', leaked);
      expect(before.statusCode).toBe(200);
      const kid = decodeProtectedHeader(before.json().token as string).kid;
      const setBefore = (await jwks()).json();
      const rowBefore = await t.dataSource
        .getRepository(TokenConfigEntity)
        .findOneByOrFail({ name: 'CRED' });

      // With the keyholder named again, and with it omitted (kept): each time the credential is stored.
      for (const [credential, keyholder] of [
        [fresh, 'service'],
        [leaked, undefined],
        [fresh, undefined],
      ] as const) {
        const saved = await post('update', { ...fields, keyholder, secret: credential });
        expect(saved.statusCode).toBe(200);
        expect(saved.body).not.toContain(credential);
        const other = credential === fresh ? leaked : fresh;
        const refused = await mint('CRED', other);
        expect(refused.statusCode).toBe(400);
        expect(refused.json()).toMatchObject({ success: false, code: '400' });
        expect(refused.json().msg).toContain('privateKey');
        expect((await mint('CRED', credential)).statusCode).toBe(200);
      }

      // The pair stays: same kid, same JWKS, no new version; tokens minted before still verify.
      const after = (await mint('CRED', fresh)).json().token as string;
      expect(decodeProtectedHeader(after).kid).toBe(kid);
      expect((await jwks()).json()).toEqual(setBefore);
      const shown = (await t.admin('GET', `${TOKEN_API}/content?name=CRED`)).json();
      expect(shown.keys).toEqual([
        { kid, created: expect.any(Number), signsFrom: expect.any(Number) },
      ]);
      const rowAfter = await t.dataSource
        .getRepository(TokenConfigEntity)
        .findOneByOrFail({ name: 'CRED' });
      expect(rowAfter.signingKeySealed).toBe(rowBefore.signingKeySealed);
      expect(rowAfter.secretSealed).not.toBe(rowBefore.secretSealed);
      const keySet = createRemoteJWKSet(new URL(`${origin}/.well-known/jwks.json`));
      for (const token of [before.json().token as string, after]) {
        const { payload, protectedHeader } = await jwtVerify(token, keySet, {
          algorithms: ['RS256'],
        });
        expect({ sub: payload.sub, kid: protectedHeader.kid }).toEqual({ sub: 'alice', kid });
        expect(await signsIn(token)).toBe(200);
      }
      const audit = await t.dataSource.getRepository(AuditEventEntity).find({
        where: { action: 'token.update', target: 'CRED' },
        order: { id: 'ASC' },
      });
      expect(audit.map((row) => row.details?.secretChanged)).toEqual([true, true, true]);
    });

    it('makes an EC pair on the algorithm curve, and leaves a disabled configuration out of the JWKS', async () => {
      now = Date.now();
      expect(
        (
          await post('update', {
            name: 'EC',
            algorithm: 'ES384',
            keyholder: 'service',
            secret: CREDENTIAL,
            enable: '1',
            fieldmap: { username: 'sub' },
          })
        ).statusCode,
      ).toBe(200);
      const ec = (await jwks()).json().keys.find((key: { alg: string }) => key.alg === 'ES384');
      expect(ec).toEqual({
        kty: 'EC',
        kid: expect.stringMatching(/^EC\./),
        alg: 'ES384',
        use: 'sig',
        crv: 'P-384',
        x: expect.any(String),
        y: expect.any(String),
      });
      const token = (await mint('EC', CREDENTIAL)).json().token as string;
      const keySet = createRemoteJWKSet(new URL(`${origin}/.well-known/jwks.json`));
      expect((await jwtVerify(token, keySet)).payload.sub).toBe('alice');

      // An update that omits keyholder keeps the pair; disabling hides it.
      expect(
        (
          await post('update', {
            name: 'EC',
            algorithm: 'ES384',
            enable: '0',
            fieldmap: { username: 'sub' },
          })
        ).statusCode,
      ).toBe(200);
      const after = (await jwks()).json().keys.map((key: { kid: string }) => key.kid);
      expect(after).not.toContain(ec.kid);
      const shown = (await t.admin('GET', `${TOKEN_API}/content?name=EC`)).json();
      expect(shown.keys[0].kid).toBe(ec.kid);
    });
  });
});
