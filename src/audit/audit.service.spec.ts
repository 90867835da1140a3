import { jest } from '@jest/globals';
import type { Repository } from 'typeorm';
import type { AuditRow, AuditWriter } from './audit-writer';
import { AuditService } from './audit.service';
import type { AuditEventEntity } from './entities/audit-event.entity';

/** An AuditService whose writer stores groups with `write` (the repository is not written to). */
const serviceWriting = (write: AuditWriter['write']) =>
  new AuditService({} as Repository<AuditEventEntity>, {
    write,
    prune: async () => ({ deleted: 0, ms: 0 }),
    close: async () => {},
    prunesInTurn: true,
  });

/** An AuditService over a writer that records each group's rows, each write taking a moment. */
function auditService() {
  const writes: { rows: AuditRow[] }[] = [];
  const audit = serviceWriting(async (rows) => {
    writes.push({ rows });
    await new Promise((resolve) => setTimeout(resolve, 1));
  });
  return { audit, writes };
}

const mint = (n: number) => ({
  actor: { username: 'admin', client: '127.0.0.1' },
  action: 'token.mint',
  target: 'ERP',
  details: { n },
});

describe('AuditService group commit', () => {
  describe('on no timer', () => {
    // Timers never fire here: an event or a group that waited on one for company would never be written.
    beforeEach(() =>
      jest.useFakeTimers({
        doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask', 'performance'],
      }),
    );
    afterEach(() => jest.useRealTimers());

    /** An AuditService over a writer that stores at once; the details of each group written. */
    function instantService() {
      const writes: AuditRow[][] = [];
      const audit = serviceWriting(async (rows) => {
        writes.push(rows);
      });
      const written = () => writes.map((rows) => rows.map((row) => row.details));
      return { audit, writes, written };
    }

    it('writes an event alone at once', async () => {
      const { audit, written } = instantService();
      await audit.record(mint(1));
      expect(written()).toEqual([[{ n: 1 }]]);
    });

    it('writes the next group as soon as the one before is stored', async () => {
      const { audit, writes, written } = instantService();
      await audit.record(mint(1));
      const second = audit.record(mint(2));
      for (let turn = 0; turn < 5 && writes.length < 2; turn++)
        await new Promise((resolve) => setImmediate(resolve));
      expect(written()).toEqual([[{ n: 1 }], [{ n: 2 }]]);
      await second;
    });
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

  it('is busy while groups are being written, and not after', async () => {
    const { audit } = auditService();
    expect(audit.busy).toBe(false);
    const recorded = audit.record(mint(1));
    expect(audit.busy).toBe(true);
    await recorded;
    await new Promise((resolve) => setImmediate(resolve));
    expect(audit.busy).toBe(false);
  });

  it('settles every caller of a group with its failure', async () => {
    const audit = serviceWriting(() => Promise.reject(new Error('disk full')));
    const results = await Promise.allSettled([audit.record(mint(1)), audit.record(mint(2))]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });

  it('writes what is queued, then closes the writer, at shutdown', async () => {
    const calls: string[] = [];
    const audit = new AuditService({} as Repository<AuditEventEntity>, {
      prune: async () => ({ deleted: 0, ms: 0 }),
      write: async (rows) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        calls.push(`write ${rows.length}`);
      },
      close: async () => {
        calls.push('close');
      },
      prunesInTurn: true,
    });
    const recorded = [audit.record(mint(1)), audit.record(mint(2))];
    await audit.onApplicationShutdown();
    await Promise.all(recorded);
    expect(calls).toEqual(['write 2', 'close']);
  });
});
