import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type Logger } from 'typeorm';
import { encodeCursor } from './audit/audit-cursor';
import { AuditReader } from './audit/audit-reader.service';
import { AuditEventEntity } from './audit/entities/audit-event.entity';
import { TOKEN_SERVICE_ENTITIES, TOKEN_SERVICE_MIGRATIONS } from './schema';
import type { AuditService } from './audit/audit.service';
import type { MetricsService } from './metrics/metrics.service';
import { UserEntity } from './users/entities/user.entity';
import type { PasswordHasher } from './users/password-hasher.service';
import { ADMINISTRATOR } from './users/user-types';
import { UsersService } from './users/users.service';
import { RevokedTokensWithoutConfigName1765100000000 } from './database/migrations/1765100000000-revoked-tokens-without-config-name';

describe('RevokedTokensWithoutConfigName1765100000000', () => {
  let dir: string;
  const open = (migrations: (typeof TOKEN_SERVICE_MIGRATIONS)[number][]) =>
    new DataSource({
      type: 'better-sqlite3',
      database: join(dir, 'migrations.sqlite'),
      migrations,
      migrationsRun: true,
    }).initialize();
  const columns = async (dataSource: DataSource) =>
    ((await dataSource.query("PRAGMA table_info('revoked_tokens')")) as { name: string }[]).map(
      (column) => column.name,
    );

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('drops config_name and keeps the revoked tokens and their expiry index', async () => {
    const before = TOKEN_SERVICE_MIGRATIONS.filter(
      (migration) => migration !== RevokedTokensWithoutConfigName1765100000000,
    );
    const old = await open(before);
    await old.query(
      "INSERT INTO revoked_tokens (jti, config_name, expires_at) VALUES ('kept', NULL, 1800000000000)",
    );
    await old.destroy();

    const current = await open(TOKEN_SERVICE_MIGRATIONS);
    try {
      expect(await columns(current)).toEqual(['jti', 'expires_at']);
      expect(await current.query('SELECT jti, expires_at FROM revoked_tokens')).toEqual([
        { jti: 'kept', expires_at: 1800000000000 },
      ]);
      expect(await current.query("PRAGMA index_list('revoked_tokens')")).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'idx_revoked_tokens_expires_at' }),
        ]),
      );
      await current.undoLastMigration();
      expect(await columns(current)).toEqual(['jti', 'expires_at', 'config_name']);
    } finally {
      await current.destroy();
    }
  });
});

describe('the schema the migrations make', () => {
  let dir: string;
  let dataSource: DataSource;
  const queries: [string, unknown[]][] = [];
  const logger: Logger = {
    logQuery: (query, parameters) =>
      void queries.push([query, Array.isArray(parameters) ? parameters : []]),
    logQueryError: () => undefined,
    logQuerySlow: () => undefined,
    logSchemaBuild: () => undefined,
    logMigration: () => undefined,
    log: () => undefined,
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'schema-'));
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: join(dir, 'schema.sqlite'),
      entities: TOKEN_SERVICE_ENTITIES,
      migrations: TOKEN_SERVICE_MIGRATIONS,
      migrationsRun: true,
      logging: ['query'],
      logger,
    }).initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is the one the entities describe: nothing left for TypeORM to synchronize', async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('serves every audit/list filter, alone and with a time range, from an index in the list order', async () => {
    const reader = new AuditReader(dataSource.getRepository(AuditEventEntity));
    const cursor = encodeCursor({ at: 1_800_000_000_000, id: 5 });
    for (const query of [
      {},
      { action: 'token.mint' },
      { actor: 'erp' },
      { target: 'someone' },
      { from: 1, to: 2 },
      { action: 'token.mint', from: 1 },
      { actor: 'erp', to: 2 },
      { target: 'someone', from: 1, to: 2 },
    ]) {
      for (const paging of [{}, { cursor }]) {
        queries.length = 0;
        await reader.list({ ...query, ...paging });
        const selects = queries.filter(([sql]) => /^\s*SELECT/i.test(sql));
        expect(selects).toHaveLength(2);
        for (const [sql, parameters] of selects) {
          const plan = (await dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, parameters)) as {
            detail: string;
          }[];
          const steps = plan.map((step) => step.detail).join(' | ');
          // An index search or scan, never the table itself nor a sort of what it found.
          expect(steps).toMatch(/USING (COVERING )?INDEX idx_audit_events_/);
          expect(steps).not.toMatch(/^SCAN audit_events$|SCAN event$|TEMP B-TREE/m);
        }
      }
    }
  });

  it('serves every user/list filter from an index in username order, the count too', async () => {
    const users = new UsersService(
      dataSource.getRepository(UserEntity),
      {} as PasswordHasher,
      {} as AuditService,
      {} as MetricsService,
    );
    for (const filters of [
      {},
      { usertype: ADMINISTRATOR },
      { enabled: false },
      { usertype: ADMINISTRATOR, enabled: true },
    ]) {
      for (const after of [undefined, 'alice']) {
        queries.length = 0;
        await users.page(filters, 50, after);
        const selects = queries.filter(([sql]) => /^\s*SELECT/i.test(sql));
        expect(selects).toHaveLength(2);
        for (const [sql, parameters] of selects) {
          const plan = (await dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, parameters)) as {
            detail: string;
          }[];
          const steps = plan.map((step) => step.detail).join(' | ');
          expect(steps).toMatch(/USING (COVERING )?INDEX (idx_users_|sqlite_autoindex_users_)/);
          expect(steps).not.toMatch(/^SCAN users$|SCAN user$|TEMP B-TREE/m);
        }
      }
    }
  });
});
