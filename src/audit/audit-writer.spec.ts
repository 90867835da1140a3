import Database from 'better-sqlite3';
import { DataSource, type Repository } from 'typeorm';
import { auditWriterFor, RepositoryAuditWriter } from './audit-writer';
import { AuditEventEntity } from './entities/audit-event.entity';

const row = {
  at: 1,
  actor: 'admin',
  action: 'token.mint',
  target: 'ERP',
  client: null,
  outcome: 'success' as const,
  details: null,
};

describe('auditWriterFor', () => {
  it('writes through the repository on a database other than SQLite', async () => {
    const inserted: unknown[] = [];
    const events = {
      manager: { connection: { options: { type: 'postgres' } } },
      insert: async (rows: unknown[]) => {
        inserted.push(...rows);
      },
    } as unknown as Repository<AuditEventEntity>;
    const writer = auditWriterFor(events);
    expect(writer).toBeInstanceOf(RepositoryAuditWriter);
    await writer.write([row]);
    expect(inserted).toEqual([row]);
    await writer.close();
  });

  it('writes beside the connection on SQLite, and closes without closing it', async () => {
    const dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      driver: Database,
      entities: [AuditEventEntity],
      synchronize: true,
    }).initialize();
    try {
      const events = dataSource.getRepository(AuditEventEntity);
      const writer = auditWriterFor(events);
      expect(writer).not.toBeInstanceOf(RepositoryAuditWriter);
      await writer.write([row, { ...row, target: 'CRM' }]);
      await writer.close();
      expect(dataSource.isInitialized).toBe(true);
      expect((await events.find({ order: { id: 'ASC' } })).map((event) => event.target)).toEqual([
        'ERP',
        'CRM',
      ]);
    } finally {
      await dataSource.destroy();
    }
  });
});
