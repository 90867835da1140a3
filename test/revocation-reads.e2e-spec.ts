/**
 * Token sign-ins read the revocations; they must never depend on a write (issue 17, point 8). Here
 * every DELETE of a revocation is refused the way a full disk refuses a write (a trigger), while
 * expired revocations wait to be pruned: Bearer sign-ins must go on answering, with revoked
 * tokens still refused. Runs on SQLite, or on PostgreSQL when DATABASE_URL is set.
 */
import { RevokedTokenEntity } from '../src/token/entities/revoked-token.entity';
import { databaseKind } from './support/database';
import { decodeToken } from './support/jwt';
import { startTestApp, TestApp, TOKEN_API, USER_API } from './support/test-app';

const SECRET = 'revocation-reads-secret-0123456789abcdef';
/** The revocation snapshot's lifetime (2 s), and a little more. */
const SNAPSHOT_RELOAD_MS = 2_300;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function refuseDeletes(t: TestApp): Promise<void> {
  if (databaseKind() === 'postgres') {
    await t.dataSource.query(`
      CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
      END $$`);
    await t.dataSource.query(
      'CREATE TRIGGER refuse_delete BEFORE DELETE ON revoked_tokens FOR EACH ROW EXECUTE FUNCTION refuse_delete()',
    );
  } else {
    await t.dataSource.query(
      "CREATE TRIGGER refuse_delete BEFORE DELETE ON revoked_tokens BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    );
  }
}

describe('token sign-ins while revocations cannot be deleted', () => {
  let t: TestApp;
  let live: string;
  let revoked: string;

  const detail = (token: string) =>
    t.inject({
      method: 'GET',
      url: `${USER_API}/detail`,
      headers: { authorization: `Bearer ${token}` },
    });
  const mint = async (username: string) => {
    const response = await t.admin('POST', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      payload: { username },
    });
    expect(response.statusCode).toBe(200);
    return response.json<{ token: string }>().token;
  };

  beforeAll(async () => {
    t = await startTestApp({ captureLogs: true });
    const saved = await t.admin('POST', `${TOKEN_API}/update`, {
      name: 'ERP',
      secret: SECRET,
      enable: '1',
    });
    expect(saved.statusCode).toBe(200);
    live = await mint('reader');
    revoked = await mint('revoked-reader');
    const revocation = await t.admin('POST', `${TOKEN_API}/revoke`, {
      jti: decodeToken(revoked).claims.jti,
    });
    expect(revocation.statusCode).toBe(200);
    // A revocation whose token expired long ago: the next reload would like to delete it.
    await t.dataSource
      .getRepository(RevokedTokenEntity)
      .insert({ jti: 'expired-long-ago', expiresAt: Date.now() - 60_000 });
    await refuseDeletes(t);
    await sleep(SNAPSHOT_RELOAD_MS);
  });
  afterAll(() => t.close());

  it('still signs in with a live token, 50 times at once, after the snapshot expired', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => detail(live)));
    for (const answer of answers) {
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ success: true, data: { user: { username: 'reader' } } });
    }
  });

  it('still refuses a revoked token', async () => {
    const answer = await detail(revoked);
    expect(answer.statusCode).toBe(401);
    expect(answer.json()).toMatchObject({ success: false, code: '401' });
  });

  it('leaves the expired revocation for a later prune, and serves the next reloads too', async () => {
    await sleep(SNAPSHOT_RELOAD_MS);
    expect((await detail(live)).statusCode).toBe(200);
    const left = await t.dataSource
      .getRepository(RevokedTokenEntity)
      .countBy({ jti: 'expired-long-ago' });
    expect(left).toBe(1);
    // It was tried, and refused: a warning, without the driver's values.
    expect(t.logs.join('')).toContain('expired revocations were not deleted');
  });
});

describe('expired revocations', () => {
  it('are deleted in the background once a token sign-in reloads the revocations', async () => {
    const t = await startTestApp();
    try {
      const repository = t.dataSource.getRepository(RevokedTokenEntity);
      await repository.insert([
        { jti: 'expired', expiresAt: Date.now() - 60_000 },
        { jti: 'live', expiresAt: Date.now() + 3_600_000 },
      ]);
      await t.admin('POST', `${TOKEN_API}/update`, { name: 'ERP', secret: SECRET, enable: '1' });
      const minted = await t.admin('POST', `${TOKEN_API}/generate`, {
        name: 'ERP',
        privateKey: SECRET,
        payload: { username: 'reader' },
      });
      const signIn = await t.inject({
        method: 'GET',
        url: `${USER_API}/detail`,
        headers: { authorization: `Bearer ${minted.json<{ token: string }>().token}` },
      });
      expect(signIn.statusCode).toBe(200);
      let left = await repository.find({ select: { jti: true } });
      for (let i = 0; i < 50 && left.length > 1; i++) {
        await sleep(50);
        left = await repository.find({ select: { jti: true } });
      }
      expect(left.map((row) => row.jti)).toEqual(['live']);
    } finally {
      await t.close();
    }
  });
});
