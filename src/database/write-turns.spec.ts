import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, defer } from 'rxjs';
import type { DataSource } from 'typeorm';
import { WriteTurns } from './write-turns';

const dataSourceOf = (type: string) => ({ options: { type } }) as DataSource;
const context = {} as ExecutionContext;

/** A handler that runs until the test ends it, noting when it began. */
function handler(log: string[], name: string) {
  let end!: (error?: Error) => void;
  const ended = new Promise<string>((resolve, reject) => {
    end = (error) => (error ? reject(error) : resolve(name));
  });
  const call: CallHandler = {
    handle: () =>
      defer(() => {
        log.push(name);
        return ended;
      }),
  };
  return { call, end };
}

const turnOfTheLoop = () => new Promise((resolve) => setImmediate(resolve));

describe('WriteTurns', () => {
  it('on SQLite, handles one write at a time, in the order they came', async () => {
    const turns = new WriteTurns(dataSourceOf('better-sqlite3'));
    const log: string[] = [];
    const writes = ['a', 'b', 'c'].map((name) => handler(log, name));
    const answers = writes.map(async ({ call }) =>
      lastValueFrom(await turns.intercept(context, call)),
    );
    await turnOfTheLoop();
    expect(log).toEqual(['a']);
    writes[0].end();
    await answers[0];
    await turnOfTheLoop();
    expect(log).toEqual(['a', 'b']);
    // A write that fails ends its turn too.
    writes[1].end(new Error('refused'));
    await expect(answers[1]).rejects.toThrow('refused');
    await turnOfTheLoop();
    expect(log).toEqual(['a', 'b', 'c']);
    writes[2].end();
    expect(await answers[2]).toBe('c');
  });

  it('begins the next turn only after the event loop has served what waited meanwhile', async () => {
    const turns = new WriteTurns(dataSourceOf('better-sqlite3'));
    const log: string[] = [];
    const first = handler(log, 'first');
    const second = handler(log, 'second');
    const answers = [first, second].map(async ({ call }) =>
      lastValueFrom(await turns.intercept(context, call)),
    );
    await turnOfTheLoop();
    // Work that waits for the event loop while the first write ends: it runs before the second.
    setImmediate(() => log.push('waiting I/O'));
    first.end();
    await answers[0];
    await turnOfTheLoop();
    await turnOfTheLoop();
    expect(log).toEqual(['first', 'waiting I/O', 'second']);
    second.end();
    await answers[1];
  });

  it('shares the turns between the controllers of one database', async () => {
    const dataSource = dataSourceOf('better-sqlite3');
    const [tokens, users] = [new WriteTurns(dataSource), new WriteTurns(dataSource)];
    const log: string[] = [];
    const token = handler(log, 'token');
    const user = handler(log, 'user');
    const answers = [
      (async () => lastValueFrom(await tokens.intercept(context, token.call)))(),
      (async () => lastValueFrom(await users.intercept(context, user.call)))(),
    ];
    await turnOfTheLoop();
    expect(log).toEqual(['token']);
    token.end();
    user.end();
    await Promise.all(answers);
    expect(log).toEqual(['token', 'user']);
  });

  it('lets every write through at once on PostgreSQL', async () => {
    const turns = new WriteTurns(dataSourceOf('postgres'));
    const log: string[] = [];
    const writes = ['a', 'b', 'c'].map((name) => handler(log, name));
    const answers = writes.map(async ({ call }) =>
      lastValueFrom(await turns.intercept(context, call)),
    );
    await turnOfTheLoop();
    expect(log).toEqual(['a', 'b', 'c']);
    for (const write of writes) write.end();
    expect(await Promise.all(answers)).toEqual(['a', 'b', 'c']);
  });
});
