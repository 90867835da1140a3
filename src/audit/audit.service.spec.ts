import type { Repository } from 'typeorm';
import { AuditService } from './audit.service';
import type { AuditEventEntity } from './entities/audit-event.entity';
import type { AuditRow } from './sqlite-audit-writer';

/** An AuditService over a repository that records each INSERT's rows and when it came. */
function auditService() {
  const writes: { at: number; rows: AuditRow[] }[] = [];
  const events = {
    manager: { connection: { options: { type: 'postgres' } } },
    insert: async (rows: AuditRow[]) => {
      writes.push({ at: performance.now(), rows });
      await new Promise((resolve) => setTimeout(resolve, 1));
    },
  } as unknown as Repository<AuditEventEntity>;
  return { audit: new AuditService(events), writes };
}

const mint = (n: number) => ({
  actor: { username: 'admin', client: '127.0.0.1' },
  action: 'token.mint',
  target: 'ERP',
  details: { n },
});

describe('AuditService group commit', () => {
  it('writes an event alone at once', async () => {
    const { audit, writes } = auditService();
    const started = performance.now();
    await audit.record(mint(1));
    expect(writes).toHaveLength(1);
    expect(writes[0].at - started).toBeLessThan(50);
    expect(writes[0].rows.map((row) => row.details)).toEqual([{ n: 1 }]);
  });

  it('gathers the events recorded while a group is written into the next group', async () => {
    const { audit, writes } = auditService();
    const first = audit.record(mint(1));
    await new Promise((resolve) => setImmediate(resolve));
    // The first group is being written: these three wait for the next one, together.
    const rest = [2, 3, 4].map((n) => audit.record(mint(n)));
    await Promise.all([first, ...rest]);
    expect(writes.map((write) => write.rows.map((row) => row.details))).toEqual([
      [{ n: 1 }],
      [{ n: 2 }, { n: 3 }, { n: 4 }],
    ]);
  });

  it('starts a group at least 4 ms after the one before, taking new events meanwhile', async () => {
    const { audit, writes } = auditService();
    await audit.record(mint(1));
    const second = audit.record(mint(2));
    // Past the turn of the event loop a group waits for anyway: the second now waits for the interval.
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    const third = audit.record(mint(3));
    await Promise.all([second, third]);
    expect(writes.map((write) => write.rows.length)).toEqual([1, 2]);
    expect(writes[1].at - writes[0].at).toBeGreaterThanOrEqual(2);
  });

  it('settles every caller of a group with its failure', async () => {
    const failing = {
      manager: { connection: { options: { type: 'postgres' } } },
      insert: () => Promise.reject(new Error('disk full')),
    } as unknown as Repository<AuditEventEntity>;
    const audit = new AuditService(failing);
    const results = await Promise.allSettled([audit.record(mint(1)), audit.record(mint(2))]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });
});
