/**
 * A full disk must never cost an acknowledged write. The database is made "full" on demand, in
 * process and without a mount: on SQLite with `PRAGMA max_page_count` on the live connection (no
 * new page can be allocated), on PostgreSQL with a deferred constraint trigger that raises
 * `disk_full` (SQLSTATE 53100) at COMMIT while a flag is set. While full, every kind of write
 * answers 503 with the envelope; once there is room the service recovers without a restart; and
 * after a restart on the same data, every write that answered 200 is there and none that answered
 * 503 is. Runs on SQLite, or on PostgreSQL when DATABASE_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import type { Database } from 'better-sqlite3';
import type { TestingModuleBuilder } from '@nestjs/testing';
import { getRepositoryToken } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AUDIT_WRITER } from '../src/audit/audit-writer';
import { AuditEventEntity } from '../src/audit/entities/audit-event.entity';
import { SqliteAuditWriter } from '../src/audit/sqlite-audit-writer';
import { sqliteConnectionOf } from '../src/database/sqlite-connection';
import { walSyncOf } from '../src/database/sqlite-wal-sync';
import { RevokedTokenEntity } from '../src/token/entities/revoked-token.entity';
import { TokenConfigEntity } from '../src/token/entities/token-config.entity';
import { UserEntity } from '../src/users/entities/user.entity';
import { databaseKind } from './support/database';
import { decodeToken } from './support/jwt';
import { PROBED_SQLITE, probedPragma } from './support/probed-sqlite';
import { startTestApp, TestApp, TOKEN_API, USER_API } from './support/test-app';

const SECRET = 'storage-full-suite-secret-0123456789abcdef';
const CONFIG = 'ERP';
const PROFILE = ['name', 'email', 'mobile', 'dept', 'title', 'company', 'dob', 'description'];
/** Writes of one kind sent while full, at most: SQLite answers 503 once a write needs a new page. */
const MAX_TRIES = 40;
/** Mints sent to use up the free space of the pages SQLite already has, at most. */
const MAX_FILL = 3000;
/** Users (each with a token) minted up front, to be disabled or revoked later. */
const SPARE = 2 * (MAX_TRIES + 2 + 3);

/** What makes the store full and gives it room again. */
interface Disk {
  fill(t: TestApp): Promise<void>;
  free(t: TestApp): Promise<void>;
  /** Whether /health/ready answers 503 while full. */
  unreadyWhenFull: boolean;
}

const sqliteOf = (t: TestApp) =>
  (t.dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;

/** Gives the app an audit writer whose own connection the test reaches (see probed-sqlite.ts). */
const probedAuditWriter = (builder: TestingModuleBuilder) =>
  builder.overrideProvider(AUDIT_WRITER).useFactory({
    inject: [getRepositoryToken(AuditEventEntity)],
    factory: (events: Repository<AuditEventEntity>) =>
      SqliteAuditWriter.beside(sqliteConnectionOf(events.manager.connection)!, {
        driver: PROBED_SQLITE,
      }),
  });

/** What runs a pragma on each connection to the file: TypeORM's, and the audit writer's own. */
const sqliteConnections = (t: TestApp): ((pragma: string) => unknown)[] => {
  const shared = sqliteOf(t);
  return [
    (pragma) => shared.pragma(pragma, { simple: true }),
    (pragma) => probedPragma(shared.name, pragma),
  ];
};

const sqliteDisk: Disk = {
  // The limit is per connection: a reopened app starts without it.
  fill: async (t) => {
    for (const pragma of sqliteConnections(t))
      await pragma(`max_page_count = ${(await pragma('page_count')) as number}`);
  },
  free: async (t) => {
    for (const pragma of sqliteConnections(t)) await pragma('max_page_count = 1073741823');
  },
  unreadyWhenFull: true,
};

const postgresDisk: Disk = {
  fill: (t) => t.dataSource.query('UPDATE storage_full_flag SET "full" = true'),
  free: (t) => t.dataSource.query('UPDATE storage_full_flag SET "full" = false'),
  // The server's disk is every instance's: taking this one out of rotation would not help.
  unreadyWhenFull: false,
};

/**
 * PostgreSQL refuses a write when a table's file must grow ("could not extend file", 53100).
 * Here it is the audit trail's, which every write adds to, while the other tables keep room: a
 * deferred constraint trigger raises at COMMIT while the flag is set.
 */
async function installPostgresDiskFull(t: TestApp): Promise<void> {
  await t.dataSource.query('CREATE TABLE storage_full_flag ("full" boolean NOT NULL)');
  await t.dataSource.query('INSERT INTO storage_full_flag VALUES (false)');
  await t.dataSource.query(`
    CREATE FUNCTION storage_full_check() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (SELECT "full" FROM storage_full_flag) THEN
        RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
      END IF;
      RETURN NULL;
    END $$`);
  await t.dataSource.query(
    `CREATE CONSTRAINT TRIGGER storage_full AFTER INSERT ON audit_events
     DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION storage_full_check()`,
  );
}

type Kind = 'user upsert' | 'config save' | 'mint' | 'revoke' | 'user disable';
const KINDS: Kind[] = ['user upsert', 'config save', 'mint', 'revoke', 'user disable'];

interface Write {
  kind: Kind;
  /** The user, configuration or jti the write is about. */
  key: string;
  status: number;
}

/** Every write sent, with its answer: what must be stored after the restart and what must not. */
class Ledger {
  readonly writes: Write[] = [];
  private users = 0;
  private configs = 0;
  /** Users created up front (by minting for them), each with a token: disabled or revoked later. */
  private readonly spare: { username: string; jti: string }[] = [];

  constructor(private readonly t: () => TestApp) {}

  async prepare(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const username = `spare-${i}`;
      const { jti } = await this.mint(username);
      this.spare.push({ username, jti: jti! });
    }
  }

  /** Sends one write of `kind`; answers its status. */
  async send(kind: Kind): Promise<number> {
    let key: string;
    let response;
    const t = this.t();
    switch (kind) {
      case 'user upsert':
        key = `new-user-${this.users++}`;
        response = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
          username: key,
          password: 'new-user-password-1',
          // Rows of a few kB: a transaction soon needs a new page for its own change.
          ...Object.fromEntries(
            PROFILE.map((field) => [field, `${field} ${key} `.padEnd(256, '.')]),
          ),
        });
        break;
      case 'config save':
        key = `NEW_${this.configs++}`;
        response = await t.admin('POST', `${TOKEN_API}/update`, {
          name: key,
          secret: SECRET,
          enable: '1',
        });
        break;
      case 'mint': {
        const minted = await this.mint('admin');
        this.record(kind, minted.jti ?? '', minted.status);
        return minted.status;
      }
      case 'revoke':
        key = this.takeSpare().jti;
        response = await t.admin('POST', `${TOKEN_API}/revoke`, { jti: key });
        break;
      case 'user disable':
        key = this.takeSpare().username;
        response = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
          username: key,
          enabled: '0',
        });
        break;
    }
    expectAnswer(response.statusCode, response.json(), response.headers['retry-after']);
    this.record(kind, key, response.statusCode);
    return response.statusCode;
  }

  acknowledged(kind: Kind): string[] {
    return this.writes.filter((w) => w.kind === kind && w.status === 200).map((w) => w.key);
  }

  refused(kind: Kind): string[] {
    return this.writes.filter((w) => w.kind === kind && w.status === 503).map((w) => w.key);
  }

  private async mint(username: string): Promise<{ status: number; jti?: string }> {
    const response = await this.t().admin('POST', `${TOKEN_API}/generate`, {
      name: CONFIG,
      privateKey: SECRET,
      payload: { username },
    });
    expectAnswer(response.statusCode, response.json(), response.headers['retry-after']);
    const body = response.json<{ token?: string }>();
    const jti = body.token ? (decodeToken(body.token).claims.jti as string) : undefined;
    return { status: response.statusCode, jti };
  }

  private takeSpare() {
    const spare = this.spare.shift();
    if (!spare) throw new Error('no spare user left: raise the count given to prepare()');
    return spare;
  }

  private record(kind: Kind, key: string, status: number) {
    this.writes.push({ kind, key, status });
  }
}

/** Every answer is a success or a 503 with the envelope: never a 500. */
function expectAnswer(status: number, body: unknown, retryAfter: unknown): void {
  if (status === 200) {
    expect(body).toMatchObject({ success: true });
    return;
  }
  expect({ status, body, retryAfter }).toEqual({
    status: 503,
    body: {
      success: false,
      code: '503',
      msg: 'the database is out of space: the change was not saved, try again later',
    },
    retryAfter: '5',
  });
}

const ready = async (t: TestApp) =>
  (await t.inject({ method: 'GET', url: '/health/ready' })).statusCode;

const kind = databaseKind();
const disk = kind === 'sqlite' ? sqliteDisk : postgresDisk;

describe(`writes on a full ${kind} database`, () => {
  let t: TestApp;
  const ledger = new Ledger(() => t);

  beforeAll(async () => {
    t = await startTestApp(kind === 'sqlite' ? { override: probedAuditWriter } : {});
    if (kind === 'postgres') await installPostgresDiskFull(t);
    const created = await t.admin('POST', `${TOKEN_API}/update`, {
      name: CONFIG,
      secret: SECRET,
      enable: '1',
      inituser: '1',
    });
    expect(created.statusCode).toBe(200);
    await ledger.prepare(SPARE);
  });
  afterAll(() => t?.close());

  if (kind === 'sqlite') {
    it('syncs the write-ahead log to disk after every commit, before a write is answered', async () => {
      const db = sqliteOf(t);
      // The connection commits with NORMAL (1): the sync after each commit is SqliteWalSync's.
      expect(db.pragma('synchronous', { simple: true })).toBe(1);
      const flush = jest
        .spyOn(walSyncOf(db)!, 'flush')
        .mockRejectedValueOnce(Object.assign(new Error('I/O error'), { code: 'EIO' }));
      try {
        const revoke = () =>
          t.admin('POST', `${TOKEN_API}/revoke`, { jti: `sync-check-${randomUUID()}` });
        // A sync that fails is never answered as saved.
        expect((await revoke()).statusCode).toBe(503);
        expect((await revoke()).statusCode).toBe(200);
        expect(flush).toHaveBeenCalledTimes(2);
      } finally {
        flush.mockRestore();
      }
    });
  }

  it('answers 503 with the envelope to every kind of write while full, and /health/ready says so', async () => {
    expect(await ready(t)).toBe(200);
    await disk.fill(t);
    // Mints use up the room left in the pages SQLite has; PostgreSQL refuses the first one.
    let filled = false;
    for (let i = 0; i < MAX_FILL && !filled; i++) filled = (await ledger.send('mint')) === 503;
    expect(filled).toBe(true);
    /** The statuses of the writes of each kind sent while full, in order. */
    const whileFull = new Map<Kind, number[]>();
    for (const each of KINDS) {
      const statuses: number[] = [];
      while (statuses.length < MAX_TRIES && !statuses.includes(503))
        statuses.push(await ledger.send(each));
      // Once refused for lack of space, a kind stays refused: nothing has made room.
      for (let i = 0; i < 2; i++) statuses.push(await ledger.send(each));
      whileFull.set(each, statuses);
    }
    expect(Object.fromEntries([...whileFull].map(([k, s]) => [k, s.slice(-3)]))).toEqual(
      Object.fromEntries(KINDS.map((k) => [k, [503, 503, 503]])),
    );
    expect(await ready(t)).toBe(disk.unreadyWhenFull ? 503 : 200);
  });

  it('recovers by itself once there is room: ready again, and every kind of write succeeds', async () => {
    await disk.free(t);
    expect(await ready(t)).toBe(200);
    // A write refused inside its transaction rolls back only its own change.
    const refused = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'no-password',
    });
    expect(refused.statusCode).toBe(400);
    const statuses = [];
    for (const each of KINDS) for (let i = 0; i < 3; i++) statuses.push(await ledger.send(each));
    expect(statuses).toEqual(new Array(KINDS.length * 3).fill(200));
  });

  it('keeps every write that answered 200 across a restart, and none that answered 503', async () => {
    await t.close({ keepData: true });
    t = await startTestApp({ attach: t.stored });
    const users = new Map(
      (await t.dataSource.getRepository(UserEntity).find()).map((u) => [u.username, u]),
    );
    const configs = new Set(
      (await t.dataSource.getRepository(TokenConfigEntity).find()).map((c) => c.name),
    );
    const revoked = new Set(
      (await t.dataSource.getRepository(RevokedTokenEntity).find()).map((r) => r.jti),
    );
    const mints = await t.dataSource
      .getRepository(AuditEventEntity)
      .findBy({ action: 'token.mint', target: CONFIG });
    const mintedJtis = new Set(mints.map((event) => String(event.details?.jti)));

    const stored = (k: Kind, key: string): boolean => {
      switch (k) {
        case 'user upsert':
          return users.has(key);
        case 'config save':
          return configs.has(key);
        case 'mint':
          return mintedJtis.has(key);
        case 'revoke':
          return revoked.has(key);
        case 'user disable':
          return users.get(key)?.enabled === false;
      }
    };
    const outcome = KINDS.map((each) => ({
      kind: each,
      lost: ledger.acknowledged(each).filter((key) => !stored(each, key)),
      kept: ledger.refused(each).filter((key) => key !== '' && stored(each, key)),
    }));
    expect(outcome).toEqual(KINDS.map((each) => ({ kind: each, lost: [], kept: [] })));
    // A refused mint has no jti to look for: the count shows that none of them was recorded.
    expect(mints.length).toBe(SPARE + ledger.acknowledged('mint').length);
  });
});
