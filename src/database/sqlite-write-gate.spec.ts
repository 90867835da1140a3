import { SqliteWriteGate } from './sqlite-write-gate';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('SqliteWriteGate', () => {
  it('holds an audit commit while a shared transaction is open, and lets it go after', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeSharedBegin();
    let committing = false;
    const audit = gate.beforeAuditCommit().then(() => (committing = true));
    await turn();
    expect(committing).toBe(false);
    gate.afterSharedEnd();
    await audit;
    expect(committing).toBe(true);
  });

  it('holds a shared BEGIN while an audit group commits', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeAuditCommit();
    let begun = false;
    const shared = gate.beforeSharedBegin().then(() => (begun = true));
    await turn();
    expect(begun).toBe(false);
    gate.afterAuditCommit();
    await shared;
    expect(begun).toBe(true);
  });

  it('lets one audit group commit at a time', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeAuditCommit();
    let second = false;
    const next = gate.beforeAuditCommit().then(() => (second = true));
    await turn();
    expect(second).toBe(false);
    gate.afterAuditCommit();
    await next;
    expect(second).toBe(true);
  });

  it('lets one shared transaction begin at a time', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeSharedBegin();
    let second = false;
    const next = gate.beforeSharedBegin().then(() => (second = true));
    await turn();
    expect(second).toBe(false);
    gate.afterSharedEnd();
    await next;
    expect(second).toBe(true);
  });

  it('opens for a transaction at once when nothing commits', async () => {
    const gate = new SqliteWriteGate();
    let begun = false;
    await gate.beforeSharedBegin().then(() => (begun = true));
    expect(begun).toBe(true);
  });
});
