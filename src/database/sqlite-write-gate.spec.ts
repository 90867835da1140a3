import { GateTimeoutError, SqliteWriteGate } from './sqlite-write-gate';

const turn = () => new Promise((resolve) => setImmediate(resolve));
const idle = () => true;

/** Whether `promise` has settled after a few turns of the event loop. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 3; i++) await turn();
  return done;
}

describe('SqliteWriteGate', () => {
  it('holds an audit commit while a shared transaction is open, and lets it go after', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeSharedBegin();
    const audit = gate.beforeAuditCommit(5000);
    expect(await settled(audit)).toBe(false);
    gate.afterSharedEnd(idle);
    expect(await settled(audit)).toBe(true);
  });

  it('holds a shared BEGIN while an audit group commits', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeAuditCommit(5000);
    const shared = gate.beforeSharedBegin();
    expect(await settled(shared)).toBe(false);
    gate.afterAuditCommit();
    expect(await settled(shared)).toBe(true);
  });

  it('lets one audit group commit at a time, and one outermost transaction begin at a time', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeAuditCommit(5000);
    const nextGroup = gate.beforeAuditCommit(5000);
    expect(await settled(nextGroup)).toBe(false);
    gate.afterAuditCommit();
    expect(await settled(nextGroup)).toBe(true);
    gate.afterAuditCommit();

    await gate.beforeSharedBegin();
    const nextTransaction = gate.beforeSharedBegin();
    expect(await settled(nextTransaction)).toBe(false);
    gate.afterSharedEnd(idle);
    expect(await settled(nextTransaction)).toBe(true);
  });

  it('gives an audit group up with SQLITE_BUSY when a transaction stays open too long', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeSharedBegin();
    await expect(gate.beforeAuditCommit(20)).rejects.toBeInstanceOf(GateTimeoutError);
    await expect(gate.beforeAuditCommit(20)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    // The refused group took no turn: once the transaction ends, the next one gets it.
    gate.afterSharedEnd(idle);
    expect(await settled(gate.beforeAuditCommit(5000))).toBe(true);
  });

  it('keeps the turn of a transaction that is not over when its release comes due', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeSharedBegin();
    let over = false;
    // A failed COMMIT, then the ROLLBACK TypeORM sends after it: the first release waits a turn.
    gate.afterSharedEnd(() => over);
    const audit = gate.beforeAuditCommit(5000);
    expect(await settled(audit)).toBe(false);
    over = true;
    gate.afterSharedEnd(() => over);
    expect(await settled(audit)).toBe(true);
  });
});
