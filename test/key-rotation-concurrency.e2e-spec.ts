/**
 * Key rotation at 300 concurrent requests, on SQLite or on DATABASE_URL's PostgreSQL (the pass's
 * database): 300 rotations of one issuer-held HS256 configuration at once, 300 mints while it
 * rotates, and 300 JWKS reads while a service-held RS256 configuration rotates. Every answer is a
 * 200 or a 4xx envelope, never a 5xx; what is stored afterwards is one chain of versions, no
 * longer than MAX_LIVE_KEY_VERSIONS allows; tokens are checked with jose and node:crypto, never
 * only with the service's own code.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { TokenConfigEntity } from '../src/token/entities/token-config.entity';
import { TokenKeyEntity } from '../src/token/entities/token-key.entity';
import { MAX_LIVE_KEY_VERSIONS } from '../src/token/token.constants';
import { databaseKind } from './support/database';
import { decodeToken } from './support/jwt';
import { startTestApp, type TestApp, TOKEN_API } from './support/test-app';

const CONCURRENT = 300;
const OVERLAP = 3600;
const kidOf = (name: string) => new RegExp(`^${name}\\.[A-Za-z0-9_-]{8}$`);
/** Concurrent requests are sent over this many milliseconds, so that they meet a rotation. */
const SPREAD_MS = 300;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const hmacKey = (secret: string) => new TextEncoder().encode(secret);

/** Every answer 200 or a 4xx with the error envelope (never a 5xx); answers the statuses seen. */
function expectOkOr4xx(responses: LightMyRequestResponse[]): Record<number, number> {
  const seen: Record<number, number> = {};
  for (const response of responses) {
    seen[response.statusCode] = (seen[response.statusCode] ?? 0) + 1;
    if (response.statusCode !== 200) {
      expect({ status: response.statusCode, body: response.json() }).toEqual({
        status: expect.any(Number),
        body: { success: false, code: String(response.statusCode), msg: expect.any(String) },
      });
    }
  }
  expect(Object.keys(seen).filter((status) => !/^(200|4\d\d)$/.test(status))).toEqual([]);
  return seen;
}

describe(`key rotation at ${CONCURRENT} concurrent requests on ${databaseKind()}`, () => {
  let t: TestApp;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    t = await startTestApp();
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    console.log(`key rotation at ${CONCURRENT} (${databaseKind()}): ${JSON.stringify(figures)}`);
  });

  const post = (path: string, body: object) => t.admin('POST', `${TOKEN_API}/${path}`, body);
  const mint = (name: string, privateKey: string, username = 'concurrent-user') =>
    post('generate', { name, privateKey, payload: { username } });
  const jwks = () => t.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  const stored = (name: string) =>
    t.dataSource.getRepository(TokenConfigEntity).findOneByOrFail({ name });
  const storedKeys = (name: string) =>
    t.dataSource.getRepository(TokenKeyEntity).findBy({ configName: name });

  it(`${CONCURRENT} rotations of one HS256 configuration at once: 200 or 409, one current version, one chain`, async () => {
    const first = 'concurrent-first-secret-0123456789abcdef';
    expect(
      (await post('update', { name: 'HOT', secret: first, enable: '1', expire: 600 })).statusCode,
    ).toBe(200);
    const before = await stored('HOT');
    const secrets = Array.from(
      { length: CONCURRENT },
      (_, i) => `concurrent-rotation-${String(i).padStart(3, '0')}-0123456789abcdef`,
    );
    const answers = await Promise.all(
      secrets.map((secret) => post('rotate', { name: 'HOT', secret, overlap: OVERLAP })),
    );
    const seen = expectOkOr4xx(answers);
    // Raced rotations are computed again, then refused as a conflict, as are those past the
    // live versions' cap: no other 4xx.
    expect(Object.keys(seen).sort()).toEqual(
      Object.keys(seen).length === 1 ? ['200'] : ['200', '409'],
    );
    const won = answers.flatMap((answer, i) =>
      answer.statusCode === 200 ? [{ secret: secrets[i], body: answer.json() }] : [],
    );
    expect(won.length).toBeGreaterThan(0);
    expect(won.length).toBeLessThanOrEqual(MAX_LIVE_KEY_VERSIONS - 1);
    const conflicts = { raced: 0, capped: 0 };
    for (const answer of answers.filter((answer) => answer.statusCode === 409)) {
      const { msg } = answer.json() as { msg: string };
      expect(msg).toMatch(
        /^token configuration HOT (was changed by a concurrent request: try again|has \d live key versions, the most it may have: token\/retire ends the previous ones)$/,
      );
      conflicts[msg.includes('live key versions') ? 'capped' : 'raced'] += 1;
    }
    figures.rotations = { ...seen, ...conflicts };
    for (const { body } of won) {
      expect(body).toEqual({
        success: true,
        kid: expect.stringMatching(kidOf('HOT')),
        signsFrom: expect.any(Number),
        previous: { kid: expect.any(String), retires: expect.any(Number) },
      });
    }

    // Stored: one row, its revision bumped once per acknowledged rotation; one previous version
    // per acknowledged rotation (none retired: the overlap is an hour), no version twice.
    const after = await stored('HOT');
    expect(after.revision).toBe(before.revision + won.length);
    const rows = await storedKeys('HOT');
    expect(rows).toHaveLength(won.length);
    const kids = won.map(({ body }) => body.kid as string);
    expect(new Set(kids).size).toBe(won.length);
    // One chain: each version was superseded by exactly one acknowledged rotation; the one
    // nobody superseded is the current one, and no previous version is it.
    const superseded = won.map(({ body }) => body.previous.kid as string);
    expect(new Set(superseded).size).toBe(superseded.length);
    const current = ['HOT', ...kids].filter((kid) => !superseded.includes(kid));
    expect(current).toEqual([after.kid]);
    expect(new Set(rows.map((row) => row.kid))).toEqual(new Set(superseded));

    const shown = (await t.admin('GET', `${TOKEN_API}/content?name=HOT`)).json();
    const live = shown.keys as { kid: string; retires?: number }[];
    expect(live.filter((key) => key.retires === undefined).map((key) => key.kid)).toEqual([
      after.kid,
    ]);
    expect(live).toHaveLength(won.length + 1);

    // A token minted with the final secret verifies with jose under that secret alone, and names
    // the current version; the previous secrets are no keys of it.
    const finalSecret = won.find(({ body }) => body.kid === after.kid)!.secret;
    const minted = await mint('HOT', finalSecret);
    expect(minted.statusCode).toBe(200);
    const token = minted.json().token as string;
    const { protectedHeader } = await jwtVerify(token, hmacKey(finalSecret), {
      algorithms: ['HS256'],
    });
    expect(protectedHeader.kid).toBe(after.kid);
    expect(protectedHeader.kid).toMatch(kidOf('HOT'));
    await expect(jwtVerify(token, hmacKey(first), { algorithms: ['HS256'] })).rejects.toThrow();
    // An HMAC key is never published.
    const set = (await jwks()).json() as { keys: { kid: string }[] };
    expect(set.keys.filter((key) => key.kid.startsWith('HOT'))).toEqual([]);
    // The overlap: the first secret and every acknowledged one still mint, with the current key.
    const older = [first, ...won.map(({ secret }) => secret)].filter((s) => s !== finalSecret);
    for (const secret of older.slice(0, 5)) {
      const again = await mint('HOT', secret);
      expect(again.statusCode).toBe(200);
      expect(decodeToken(again.json().token).header.kid).toBe(after.kid);
    }
    // Retiring ends every previous version at once.
    const retired = await post('retire', { name: 'HOT' });
    expect(retired.statusCode).toBe(200);
    expect(new Set(retired.json().retired)).toEqual(new Set(superseded));
    expect(await storedKeys('HOT')).toEqual([]);
    expect((await mint('HOT', first)).statusCode).toBe(400);
    expect((await mint('HOT', finalSecret)).statusCode).toBe(200);
  }, 60_000);

  it(`${CONCURRENT} mints during a rotation: 200 each, signed by the old key under its kid or the new one under its own`, async () => {
    const OLD = 'mint-during-rotation-old-0123456789abcdef';
    const NEW = 'mint-during-rotation-new-0123456789abcdef';
    expect(
      (await post('update', { name: 'GEN', secret: OLD, enable: '1', expire: 600 })).statusCode,
    ).toBe(200);
    // The user exists before: the mints race the rotation, not one another's user insert.
    expect((await mint('GEN', OLD)).statusCode).toBe(200);
    // Sent over SPREAD_MS, the rotation a third of the way in: the first mints are answered
    // before it is sent, the last ones sent after it is answered (on a fast machine).
    const start = performance.now();
    const rotation = sleep(SPREAD_MS / 3).then(async () => {
      const sent = performance.now() - start;
      const answer = await post('rotate', { name: 'GEN', secret: NEW, overlap: OVERLAP });
      return { answer, sent, answered: performance.now() - start };
    });
    const mints = Array.from({ length: CONCURRENT }, async (_, i) => {
      await sleep((i * SPREAD_MS) / CONCURRENT);
      const sent = performance.now() - start;
      const answer = await mint('GEN', OLD);
      return { answer, sent, answered: performance.now() - start };
    });
    const [timed, rotating] = await Promise.all([Promise.all(mints), rotation]);
    const rotated = rotating.answer;
    const answers = timed.map(({ answer }) => answer);
    expect(rotated.statusCode).toBe(200);
    const newKid = rotated.json().kid as string;
    expect(rotated.json().previous.kid).toBe('GEN');
    expect(answers.map((answer) => answer.statusCode)).toEqual(answers.map(() => 200));
    const signedBy = { old: 0, new: 0, oldAnsweredBeforeSent: 0, newSentAfterAnswered: 0 };
    for (const { answer, sent, answered } of timed) {
      const token = answer.json().token as string;
      const kid = decodeToken(token).header.kid;
      // Exactly one of the two secrets verifies it, and its kid names that version.
      const [byOld, byNew] = await Promise.all(
        [OLD, NEW].map((secret) =>
          jwtVerify(token, hmacKey(secret), { algorithms: ['HS256'] }).then(
            () => true,
            () => false,
          ),
        ),
      );
      expect({ kid, byOld, byNew }).toEqual(
        byOld
          ? { kid: 'GEN', byOld: true, byNew: false }
          : { kid: newKid, byOld: false, byNew: true },
      );
      signedBy[byOld ? 'old' : 'new'] += 1;
      // A mint answered before the rotation was sent has the old key; one sent after the
      // rotation was answered, the new one.
      if (answered < rotating.sent) {
        expect({ kid, answered, rotationSent: rotating.sent }).toMatchObject({ kid: 'GEN' });
        signedBy.oldAnsweredBeforeSent += 1;
      }
      if (sent > rotating.answered) {
        expect({ kid, sent, rotationAnswered: rotating.answered }).toMatchObject({ kid: newKid });
        signedBy.newSentAfterAnswered += 1;
      }
    }
    expect(signedBy.old + signedBy.new).toBe(CONCURRENT);
    figures.mintsSignedBy = signedBy;
    // Once the rotation is answered, new mints sign with the new key.
    const after = (await mint('GEN', OLD)).json().token as string;
    expect(
      (await jwtVerify(after, hmacKey(NEW), { algorithms: ['HS256'] })).protectedHeader.kid,
    ).toBe(newKid);
  }, 60_000);

  it(`${CONCURRENT} JWKS reads during rotations of an RS256 service-held key: each a valid set with the signing kid`, async () => {
    const CREDENTIAL = 'jwks-concurrency-credential-0123456789ab';
    expect(
      (
        await post('update', {
          name: 'PUB',
          algorithm: 'RS256',
          keyholder: 'service',
          secret: CREDENTIAL,
          enable: '1',
          fieldmap: { username: 'sub' },
        })
      ).statusCode,
    ).toBe(200);
    const signing = (await stored('PUB')).kid!;
    expect(signing).toMatch(kidOf('PUB'));
    // As many as the live versions' cap allows: each pair stays live past this test.
    const ROTATIONS = MAX_LIVE_KEY_VERSIONS - 1;
    // Rotations one after another (each makes an RSA pair), while the reads go out together.
    const rotations = (async () => {
      const kids: string[] = [];
      for (let i = 0; i < ROTATIONS; i++) {
        const rotated = await post('rotate', { name: 'PUB', overlap: OVERLAP });
        expect(rotated.statusCode).toBe(200);
        kids.push(rotated.json().kid as string);
      }
      return kids;
    })();
    // Spread over the rotations rather than all before the first commits.
    const reads = Promise.all(
      Array.from({ length: CONCURRENT }, async (_, i) => {
        await sleep((i % 100) * 10);
        return jwks();
      }),
    );
    const [rotatedKids, answers] = await Promise.all([rotations, reads]);
    expect(answers.map((answer) => answer.statusCode)).toEqual(answers.map(() => 200));
    const sets = new Set<string>();
    for (const answer of answers) {
      const set = answer.json() as { keys: (JsonWebKey & { kid: string; alg: string })[] };
      const pub = set.keys.filter((key) => key.kid.startsWith('PUB'));
      // The key that signs now is always published; rotated ones appear as they are committed.
      expect(pub.map((key) => key.kid)).toContain(signing);
      for (const key of pub) {
        expect(key).toEqual({
          kty: 'RSA',
          kid: expect.any(String),
          alg: 'RS256',
          use: 'sig',
          n: expect.any(String),
          e: 'AQAB',
        });
        expect([signing, ...rotatedKids]).toContain(key.kid);
        expect(createPublicKey({ key, format: 'jwk' }).asymmetricKeyType).toBe('rsa');
      }
      expect(new Set(pub.map((key) => key.kid)).size).toBe(pub.length);
      sets.add(pub.map((key) => key.kid).join(' '));
    }
    // The rotated pairs wait JWKS_MAX_AGE + 2 s to sign: the first key still signs, and a token
    // it signs verifies with jose against the set as now published (every version in it).
    const finalSet = (await jwks()).json() as { keys: { kid: string }[] };
    expect(finalSet.keys.map((key) => key.kid).sort()).toEqual([signing, ...rotatedKids].sort());
    const capped = await post('rotate', { name: 'PUB', overlap: OVERLAP });
    expect(capped.statusCode).toBe(409);
    expect(capped.json().msg).toContain(`has ${MAX_LIVE_KEY_VERSIONS} live key versions`);
    expect((await jwks()).json()).toEqual(finalSet);
    const minted = await mint('PUB', CREDENTIAL);
    expect(minted.statusCode).toBe(200);
    const { protectedHeader, payload } = await jwtVerify(
      minted.json().token as string,
      createLocalJWKSet(finalSet as Parameters<typeof createLocalJWKSet>[0]),
      { algorithms: ['RS256'] },
    );
    expect(protectedHeader.kid).toBe(signing);
    expect(payload.sub).toBe('concurrent-user');
    figures.distinctJwksSets = sets.size;
  }, 60_000);
});
