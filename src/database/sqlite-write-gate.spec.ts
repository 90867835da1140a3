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

describe('SqliteWriteGate: the order of turns', () => {
  /** Records the order in which waiters get their turn, each ending it as soon as it has it. */
  function recorder(gate: SqliteWriteGate) {
    const order: string[] = [];
    return {
      order,
      shared: (name: string) =>
        gate.beforeSharedBegin().then(() => {
          order.push(name);
          gate.afterSharedEnd(idle);
        }),
      audit: (name: string) =>
        gate.beforeAuditCommit(5000).then(() => {
          order.push(name);
          gate.afterAuditCommit();
        }),
    };
  }

  it('gives a waiting audit group the next turn before transactions that asked after it', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeSharedBegin();
    const r = recorder(gate);
    const all = [r.audit('group'), r.shared('t1'), r.shared('t2')];
    gate.afterSharedEnd(idle);
    await Promise.all(all);
    expect(r.order).toEqual(['group', 't1', 't2']);
  });

  it('alternates when both sides wait, first come first served on each side', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeSharedBegin();
    const r = recorder(gate);
    // Transactions asked first, then groups: still every other turn goes to a group.
    const all = [
      r.shared('t1'),
      r.shared('t2'),
      r.shared('t3'),
      r.audit('g1'),
      r.audit('g2'),
    ];
    gate.afterSharedEnd(idle);
    await Promise.all(all);
    expect(r.order).toEqual(['g1', 't1', 'g2', 't2', 't3']);
  });

  it('starves neither side under a steady stream of the other', async () => {
    const gate = new SqliteWriteGate();
    const order: string[] = [];
    // Eight writers each asking again as soon as their transaction ends, as back-to-back requests do.
    const writer = async (name: string, times: number) => {
      for (let i = 0; i < times; i++) {
        await gate.beforeSharedBegin();
        order.push(name);
        await Promise.resolve();
        gate.afterSharedEnd(idle);
      }
    };
    const groups = async (times: number) => {
      for (let i = 0; i < times; i++) {
        await gate.beforeAuditCommit(5000);
        order.push('group');
        gate.afterAuditCommit();
      }
    };
    await Promise.all([
      ...Array.from({ length: 8 }, (_, w) => writer(`w${w}`, 5)),
      groups(5),
    ]);
    // Each group waited for one transaction at most.
    const positions = order.flatMap((name, i) => (name === 'group' ? [i] : []));
    expect(positions).toHaveLength(5);
    for (let i = 1; i < positions.length; i++)
      expect(positions[i] - positions[i - 1]).toBeLessThanOrEqual(2);
    expect(positions[0]).toBeLessThanOrEqual(1);
    // And every writer had all its turns.
    for (let w = 0; w < 8; w++) expect(order.filter((name) => name === `w${w}`)).toHaveLength(5);
  });

  it('passes over a group that gave up, to the next in line', async () => {
    const gate = new SqliteWriteGate();
    await gate.beforeSharedBegin();
    const late = gate.beforeAuditCommit(0);
    await expect(late).rejects.toBeInstanceOf(GateTimeoutError);
    const r = recorder(gate);
    const all = [r.shared('t1'), r.audit('g1')];
    gate.afterSharedEnd(idle);
    await Promise.all(all);
    expect(r.order).toEqual(['g1', 't1']);
  });
});
