import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions, Table, TableIndex } from 'typeorm';
import {
  databaseOptions,
  openDataSource,
  SQLITE_FILE,
  STANDALONE_MIGRATIONS,
} from '../src/app/database/database.module';
import { parseSettings } from '../src/config/settings';
import { TOKEN_SERVICE_ENTITIES, TOKEN_SERVICE_MIGRATIONS } from '../src/schema';
import { createPostgresDatabase, databaseKind, POSTGRES_URL } from './support/database';

/**
 * The sessions table belongs to the standalone service's login: its database has it, a host's
 * (TOKEN_SERVICE_MIGRATIONS only) never does. On SQLite, or on DATABASE_URL's PostgreSQL.
 */
describe(`the sessions table (${databaseKind()})`, () => {
  let dir: string;
  let url: string | undefined;
  let drop: () => Promise<void> = async () => undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'standalone-schema-'));
    if (POSTGRES_URL) ({ url, drop } = await createPostgresDatabase());
  });
  afterEach(async () => {
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The standalone service's data source, as DatabaseModule opens it (migrations run). */
  const standalone = () =>
    openDataSource(
      databaseOptions(
        parseSettings({ DATA_DIR: dir, ...(url ? { DATABASE_URL: url } : {}) }),
      ) as DataSourceOptions,
    );
  /** A host's data source: the library's entities and migrations only (in the service's file). */
  const host = () =>
    new DataSource({
      ...(url
        ? { type: 'postgres', url }
        : { type: 'better-sqlite3', database: join(dir, SQLITE_FILE) }),
      entities: TOKEN_SERVICE_ENTITIES,
      migrations: TOKEN_SERVICE_MIGRATIONS,
      migrationsRun: true,
    }).initialize();

  async function using<T>(open: Promise<DataSource>, use: (dataSource: DataSource) => Promise<T>) {
    const dataSource = await open;
    try {
      return await use(dataSource);
    } finally {
      await dataSource.destroy();
    }
  }
  const pendingSchema = async (dataSource: DataSource) =>
    (await dataSource.driver.createSchemaBuilder().log()).upQueries.map((query) => query.query);

  it("is not in a host's database", async () => {
    await using(host(), async (dataSource) => {
      expect(await dataSource.createQueryRunner().hasTable('token_configs')).toBe(true);
      expect(await dataSource.createQueryRunner().hasTable('sessions')).toBe(false);
      expect(await pendingSchema(dataSource)).toEqual([]);
    });
  });

  it("is in the standalone service's, as SessionEntity describes it, and its migration's down drops it", async () => {
    await using(standalone(), async (dataSource) => {
      const table = await dataSource.createQueryRunner().getTable('sessions');
      expect(table?.columns.map((column) => column.name)).toEqual([
        'id_hash',
        'username',
        'created_date',
        'expires_at',
      ]);
      expect(table?.indices.map((index) => index.name)).toContain('idx_sessions_expires_at');
      expect(await pendingSchema(dataSource)).toEqual([]);

      expect(STANDALONE_MIGRATIONS.at(-1)?.name).toBe('Sessions1765500000000');
      await dataSource.undoLastMigration();
      expect(await dataSource.createQueryRunner().hasTable('sessions')).toBe(false);
      expect(await dataSource.createQueryRunner().hasTable('token_configs')).toBe(true);
    });
  });

  it('is kept, with its sessions, where the first migration made it already', async () => {
    // Such a database: the library's migrations, and the sessions table as that migration made it.
    await using(host(), async (dataSource) => {
      await dataSource.createQueryRunner().createTable(
        new Table({
          name: 'sessions',
          columns: [
            { name: 'id_hash', type: 'varchar', length: '64', isPrimary: true },
            { name: 'username', type: 'varchar', length: '128', isNullable: false },
            { name: 'created_date', type: 'bigint', isNullable: false },
            { name: 'expires_at', type: 'bigint', isNullable: false },
          ],
          indices: [
            new TableIndex({ name: 'idx_sessions_expires_at', columnNames: ['expires_at'] }),
          ],
        }),
      );
      await dataSource.query(
        "INSERT INTO sessions (id_hash, username, created_date, expires_at) VALUES ('kept', 'alice', 1, 2)",
      );
    });
    await using(standalone(), async (dataSource) => {
      expect(await dataSource.query('SELECT id_hash, username FROM sessions')).toEqual([
        { id_hash: 'kept', username: 'alice' },
      ]);
      expect(await pendingSchema(dataSource)).toEqual([]);
    });
  });
});
