import type { AppSettings } from '../../config/settings.config';
import { PasswordWork, SignInBusyException } from './password-work';

/** A check that runs until the test lets it end. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((done) => (open = done));
  return { open, opened };
}

describe('PasswordWork', () => {
  const newWork = (concurrency: number, queue = 16) =>
    new PasswordWork({
      passwordHashConcurrency: concurrency,
      passwordHashQueue: queue,
    } as AppSettings);

  it('runs at most PASSWORD_HASH_CONCURRENCY checks at once', async () => {
    const work = newWork(2);
    let running = 0;
    let most = 0;
    const gates = Array.from({ length: 6 }, gate);
    const runs = gates.map((g, i) =>
      work.run(`10.0.0.${i}`, async () => {
        most = Math.max(most, ++running);
        await g.opened;
        running--;
      }),
    );
    for (const g of gates) {
      await new Promise((done) => setImmediate(done));
      g.open();
    }
    await Promise.all(runs);
    expect(most).toBe(2);
  });

  it('serves waiting addresses in turn, so a flood from one delays another by one check', async () => {
    const work = newWork(1);
    const order: string[] = [];
    const first = gate();
    const busy = work.run('flood', () => first.opened);
    const flood = Array.from({ length: 10 }, (_, i) =>
      work.run('flood', async () => void order.push(`flood-${i}`)),
    );
    const other = work.run('office', async () => void order.push('office'));
    first.open();
    await Promise.all([busy, ...flood, other]);
    expect(order.slice(0, 2)).toEqual(['flood-0', 'office']);
    expect(order).toHaveLength(11);
  });

  it('refuses an address with PASSWORD_HASH_QUEUE checks waiting, and no other', async () => {
    const work = newWork(1, 3);
    const first = gate();
    const busy = work.run('flood', () => first.opened);
    const queued = Array.from({ length: 3 }, () => work.run('flood', async () => 'checked'));
    await expect(work.run('flood', async () => 'checked')).rejects.toBeInstanceOf(
      SignInBusyException,
    );
    const other = work.run('office', async () => 'checked');
    first.open();
    await busy;
    expect(await Promise.all([...queued, other])).toEqual(Array(4).fill('checked'));
  });

  it('frees its place when a check throws', async () => {
    const work = newWork(1);
    await expect(
      work.run('a', async () => {
        throw new Error('database down');
      }),
    ).rejects.toThrow('database down');
    expect(await work.run('b', async () => 'checked')).toBe('checked');
  });
});
