/**
 * Writes sent together (issue 17): concurrent creations of one configuration or one user answer
 * 200 or 409 with the envelope, never 500, and leave one record and a consistent audit trail, on
 * SQLite and on PostgreSQL (always run: REQUIRED_POSTGRES_URL, failing when it does not answer).
 * On SQLite, mints are not starved by back-to-back admin writes, and one request's failed
 * transaction never undoes another's acknowledged one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { AuditEventEntity } from '../src/audit/entities/audit-event.entity';
import { TokenConfigEntity } from '../src/token/entities/token-config.entity';
import { RevokedTokenEntity } from '../src/token/entities/revoked-token.entity';
import { UserEntity } from '../src/users/entities/user.entity';
import { createPostgresDatabase, REQUIRED_POSTGRES_URL } from './support/database';
import { startTestApp, type TestApp, TOKEN_API, USER_API } from './support/test-app';

const SECRET = 'a-shared-secret-of-more-than-32-bytes';
const CONCURRENT = 40;

/** The app on a fresh SQLite file, or a fresh PostgreSQL database, whatever the pass. */
async function appOn(kind: 'sqlite' | 'postgres'): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datafor-concurrent-'));
  if (kind === 'sqlite')
    return startTestApp({
      attach: { dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) },
    });
  const postgres = await createPostgresDatabase(REQUIRED_POSTGRES_URL);
  return startTestApp({
    attach: {
      dataDir,
      databaseUrl: postgres.url,
      drop: async () => {
        await postgres.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    },
  });
}

/** Every answer 200, or 409 with the envelope; answers the 200s. */
function expectOkOrConflict(responses: LightMyRequestResponse[]): LightMyRequestResponse[] {
  const statuses = responses.map((r) => r.statusCode);
  expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([]);
  for (const conflict of responses.filter((r) => r.statusCode === 409))
    expect(conflict.json()).toEqual({ success: false, code: '409', msg: expect.any(String) });
  return responses.filter((r) => r.statusCode === 200);
}

describe.each(['sqlite', 'postgres'] as const)('concurrent creations of one record on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appOn(kind);
    expect(t.dataSource.options.type).toBe(kind === 'sqlite' ? 'better-sqlite3' : 'postgres');
  });
  afterAll(() => t?.close());

  const auditActions = async (target: string) =>
    (await t.dataSource.getRepository(AuditEventEntity).findBy({ target })).map((e) => e.action);

  it(`${CONCURRENT} concurrent token/update of one new name: 200 each, one configuration, one token.create`, async () => {
    const responses = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        t.admin('POST', `${TOKEN_API}/update`, {
          name: 'RACE',
          secret: SECRET,
          expire: 100 + i,
          enable: '1',
        }),
      ),
    );
    const ok = expectOkOrConflict(responses);
    // Upsert semantics: the ones that lost the race to create it replaced it.
    expect(ok).toHaveLength(CONCURRENT);
    const stored = await t.dataSource.getRepository(TokenConfigEntity).findBy({ name: 'RACE' });
    expect(stored).toHaveLength(1);
    const actions = await auditActions('RACE');
    expect(actions.filter((a) => a === 'token.create')).toHaveLength(1);
    expect(actions.filter((a) => a === 'token.update')).toHaveLength(ok.length - 1);
    // The one stored is usable: the last write's fields, with the secret it was given.
    const minted = await t.admin('POST', `${TOKEN_API}/generate`, {
      name: 'RACE',
      privateKey: SECRET,
      payload: { username: 'race-user' },
    });
    expect(minted.statusCode).toBe(200);
  });

  it(`${CONCURRENT} concurrent user/insertOrUpdate of one new username: 200 or 409, one user, one user.create`, async () => {
    const responses = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        t.admin('POST', `${USER_API}/insertOrUpdate`, {
          username: 'racer',
          password: `racer-password-${i}`,
          name: `Racer ${i}`,
        }),
      ),
    );
    const ok = expectOkOrConflict(responses);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(await t.dataSource.getRepository(UserEntity).countBy({ username: 'racer' })).toBe(1);
    const actions = await auditActions('racer');
    expect(actions.filter((a) => a === 'user.create')).toHaveLength(1);
    expect(actions.filter((a) => a === 'user.update')).toHaveLength(ok.length - 1);
  });
});

describe('admin writes beside mints on SQLite', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appOn('sqlite');
    expect(t.dataSource.options.type).toBe('better-sqlite3');
    const created = await t.admin('POST', `${TOKEN_API}/update`, {
      name: 'FAIR',
      secret: SECRET,
      enable: '1',
    });
    expect(created.statusCode).toBe(200);
  });
  afterAll(() => t?.close());

  /** Runs `send` back to back on `workers` loops until `until`; answers every response with its time. */
  async function loops(
    workers: number,
    until: number,
    send: (n: number) => Promise<LightMyRequestResponse>,
  ): Promise<{ response: LightMyRequestResponse; ms: number; n: number }[]> {
    const done: { response: LightMyRequestResponse; ms: number; n: number }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (Date.now() < until) {
          const n = next++;
          const started = Date.now();
          const response = await send(n);
          done.push({ response, ms: Date.now() - started, n });
        }
      }),
    );
    return done;
  }

  const mint = () =>
    t.admin('POST', `${TOKEN_API}/generate`, {
      name: 'FAIR',
      privateKey: SECRET,
      payload: { username: 'fair-user' },
    });

  it('mints keep answering, promptly, while 8 admins revoke back to back', async () => {
    expect((await mint()).statusCode).toBe(200);
    const until = Date.now() + 3000;
    const [revokes, mints] = await Promise.all([
      loops(8, until, (n) => t.admin('POST', `${TOKEN_API}/revoke`, { jti: `fair-${n}` })),
      loops(4, until, () => mint()),
    ]);
    expect(revokes.filter((r) => r.response.statusCode !== 200)).toEqual([]);
    expect(mints.map((m) => m.response.statusCode).filter((s) => s !== 200)).toEqual([]);
    // Measured about 0.1 s at worst on a busy machine; before, groups waited 5 s, then 503.
    expect(Math.max(...mints.map((m) => m.ms))).toBeLessThan(2000);
    expect(mints.length).toBeGreaterThan(20);
  });

  it("a request's failed transaction never undoes another's acknowledged one", async () => {
    const until = Date.now() + 2000;
    const [revokes] = await Promise.all([
      loops(8, until, (n) => t.admin('POST', `${TOKEN_API}/revoke`, { jti: `kept-${n}` })),
      // Each one rolls its transaction back: the configuration does not exist.
      loops(8, until, (n) => t.admin('POST', `${TOKEN_API}/delete`, { name: `MISSING${n}` })),
    ]);
    const acknowledged = revokes.filter((r) => r.response.statusCode === 200).map((r) => r.n);
    expect(acknowledged.length).toBeGreaterThan(20);
    const stored = new Set(
      (await t.dataSource.getRepository(RevokedTokenEntity).find()).map((r) => r.jti),
    );
    const audited = new Set(
      (await t.dataSource.getRepository(AuditEventEntity).findBy({ action: 'token.revoke' })).map(
        (e) => e.target,
      ),
    );
    expect(acknowledged.filter((n) => !stored.has(`kept-${n}`))).toEqual([]);
    expect(acknowledged.filter((n) => !audited.has(`kept-${n}`))).toEqual([]);
  });
});
