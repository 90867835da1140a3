import type { AuditService } from '../../audit/audit.service';
import type { AppSettings } from '../../config/settings.config';
import { KnownAddresses } from './known-addresses';
import { SignInBusyException } from './password-work';

/** An audit trail whose look-ups wait until the test answers them, counting those in flight. */
function slowAudit() {
  const pending: (() => void)[] = [];
  const seen = { inFlight: 0, most: 0, asked: [] as string[] };
  const audit = {
    succeededBefore: ({ target, client }: { target: string; client: string }) => {
      seen.asked.push(`${target}@${client}`);
      seen.most = Math.max(seen.most, ++seen.inFlight);
      return new Promise<boolean>((answer) =>
        pending.push(() => {
          seen.inFlight--;
          answer(target === 'owner');
        }),
      );
    },
  } as unknown as AuditService;
  /** Answers the look-ups waiting now, and lets the next ones start. */
  const answerAll = async () => {
    do {
      for (const answer of pending.splice(0)) answer();
      await new Promise((done) => setImmediate(done));
    } while (pending.length > 0);
  };
  return { audit, seen, answerAll };
}

describe('KnownAddresses', () => {
  const settings = (dbPoolMax: number) =>
    ({
      loginKnownClientTtl: 3600,
      dbPoolMax,
      passwordHashQueue: 4,
    }) as AppSettings;

  it('holds a quarter of the connection pool at most, however many sign-ins ask', async () => {
    const { audit, seen, answerAll } = slowAudit();
    const known = new KnownAddresses(audit, settings(8), { now: () => 1e12 });
    const answers = Promise.all(
      Array.from({ length: 40 }, (_, i) => known.has(`guess-${i}`, `198.51.100.${i}`)),
    );
    await new Promise((done) => setImmediate(done));
    expect(seen.inFlight).toBe(2);
    await answerAll();
    expect(await answers).toEqual(Array(40).fill(false));
    expect(seen.most).toBe(2);
  });

  it("refuses a flooding address's surplus unasked, and serves another address next", async () => {
    const { audit, seen, answerAll } = slowAudit();
    const known = new KnownAddresses(audit, settings(4), { now: () => 1e12 });
    const flood = Array.from({ length: 20 }, (_, i) =>
      known.has(`made-up-${i}`, '203.0.113.66').catch((error: unknown) => error),
    );
    const owner = known.has('owner', '10.9.0.1');
    await answerAll();
    const outcomes = await Promise.all(flood);
    // One look-up running and PASSWORD_HASH_QUEUE waiting; the other 15 refused without a query.
    expect(outcomes.filter((o) => o instanceof SignInBusyException)).toHaveLength(15);
    expect(outcomes.filter((o) => o === false)).toHaveLength(5);
    expect(await owner).toBe(true);
    // The owner waited for one look-up of the flood's queue, not for all of them.
    expect(seen.asked.slice(0, 3)).toEqual([
      'made-up-0@203.0.113.66',
      'made-up-1@203.0.113.66',
      'owner@10.9.0.1',
    ]);
  });

  it('asks nothing when known addresses are off', async () => {
    const { audit, seen } = slowAudit();
    const known = new KnownAddresses(
      audit,
      { ...settings(8), loginKnownClientTtl: 0 },
      { now: () => 1e12 },
    );
    expect(await known.has('owner', '10.9.0.1')).toBe(false);
    expect(seen.asked).toEqual([]);
  });
});
