import type { DataSource } from 'typeorm';
import { WriteTurns, writeTurnsOf } from './write-turns';

const dataSourceOf = (type: string) => ({ options: { type } }) as DataSource;

/** A change that runs until the test ends it, noting when it began. */
function change(log: string[], name: string) {
  let end!: (error?: Error) => void;
  const ended = new Promise<string>((resolve, reject) => {
    end = (error) => (error ? reject(error) : resolve(name));
  });
  return {
    run: () => {
      log.push(name);
      return ended;
    },
    end,
  };
}

const turnOfTheLoop = () => new Promise((resolve) => setImmediate(resolve));

describe('WriteTurns', () => {
  it('runs one change at a time, in the order they came', async () => {
    const turns = new WriteTurns();
    const log: string[] = [];
    const changes = ['a', 'b', 'c'].map((name) => change(log, name));
    const answers = changes.map((c) => turns.run(c.run));
    await turnOfTheLoop();
    expect(log).toEqual(['a']);
    changes[0].end();
    await answers[0];
    await turnOfTheLoop();
    expect(log).toEqual(['a', 'b']);
    // A change that fails ends its turn too.
    changes[1].end(new Error('refused'));
    await expect(answers[1]).rejects.toThrow('refused');
    await turnOfTheLoop();
    expect(log).toEqual(['a', 'b', 'c']);
    changes[2].end();
    expect(await answers[2]).toBe('c');
  });

  it('begins the next turn only after the event loop has served what waited meanwhile', async () => {
    const turns = new WriteTurns();
    const log: string[] = [];
    const first = change(log, 'first');
    const second = change(log, 'second');
    const answers = [turns.run(first.run), turns.run(second.run)];
    await turnOfTheLoop();
    // Work that waits for the event loop while the first change ends: it runs before the second.
    setImmediate(() => log.push('waiting I/O'));
    first.end();
    await answers[0];
    await turnOfTheLoop();
    await turnOfTheLoop();
    expect(log).toEqual(['first', 'waiting I/O', 'second']);
    second.end();
    await answers[1];
  });

  it('releases a turn once however often it is given back', async () => {
    const turns = new WriteTurns();
    const release = await turns.take();
    release();
    release();
    await turnOfTheLoop();
    const log: string[] = [];
    const [a, b] = [change(log, 'a'), change(log, 'b')];
    const answers = [turns.run(a.run), turns.run(b.run)];
    await turnOfTheLoop();
    expect(log).toEqual(['a']);
    a.end();
    b.end();
    await Promise.all(answers);
  });

  it('is one queue per SQLite database, and none on PostgreSQL', () => {
    const sqlite = dataSourceOf('better-sqlite3');
    expect(writeTurnsOf(sqlite)).toBeInstanceOf(WriteTurns);
    expect(writeTurnsOf(sqlite)).toBe(writeTurnsOf(sqlite));
    expect(writeTurnsOf(dataSourceOf('better-sqlite3'))).not.toBe(writeTurnsOf(sqlite));
    expect(writeTurnsOf(dataSourceOf('postgres'))).toBeUndefined();
  });
});
