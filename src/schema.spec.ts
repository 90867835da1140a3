import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { TOKEN_SERVICE_MIGRATIONS } from './schema';
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
