import { AuditEventEntity } from '../src/audit/entities/audit-event.entity';
import { insertRows, walkPages } from './support/rows';
import { AUDIT_API, startTestApp, type TestApp } from './support/test-app';

const AUDIT_LIST = `${AUDIT_API}/list`;
const T0 = 1_800_000_000_000;

interface Event {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
}
interface ListAnswer {
  success: true;
  data: Event[];
  total: number;
  totalExact: boolean;
  page: number;
  size: number;
  next?: string;
}

type Seeded = Omit<AuditEventEntity, 'id'>;

const seed = (t: TestApp, rows: Seeded[]) => insertRows(t, AuditEventEntity, rows, 500);

const row = (at: number, overrides: Partial<Seeded> = {}): Seeded => ({
  at,
  actor: 'erp',
  action: 'token.mint',
  target: 'someone',
  client: '10.0.0.1',
  outcome: 'success',
  details: null,
  ...overrides,
});

async function list(t: TestApp, query: string): Promise<ListAnswer> {
  const response = await t.admin('GET', `${AUDIT_LIST}?${query}`);
  expect(response.statusCode).toBe(200);
  return response.json() as ListAnswer;
}

/** Every page from the first, by cursor; `between` runs after each page. */
const walk = (t: TestApp, filters: string, between?: () => Promise<void>): Promise<Event[]> =>
  walkPages((query) => list(t, query), filters, between);

const newestFirst = (a: Event, b: Event) => b.at - a.at || b.id - a.id;

describe('audit/list by cursor', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    // 1,000 events, many sharing an instant (the order then falls back to the id).
    await seed(
      t,
      Array.from({ length: 1000 }, (_, i) =>
        row(T0 + Math.floor(i / 7), {
          actor: i % 3 === 0 ? 'alice' : 'erp',
          action: i % 2 === 0 ? 'token.mint' : 'session.login',
          target: `user-${i % 11}`,
        }),
      ),
    );
  });
  afterAll(() => t.close());

  it('returns every event exactly once, newest first, while newer ones are added', async () => {
    const before = (await t.dataSource.query(
      `SELECT id FROM audit_events WHERE at >= ${T0} AND at < ${T0 + 1000}`,
    )) as { id: number }[];
    let added = 0;
    const seen = await walk(t, `from=${T0}&to=${T0 + 1000}&size=37`, async () => {
      await seed(t, [row(T0 + 2000 + added++)]);
    });
    expect(added).toBeGreaterThan(20);
    expect(seen.map((event) => event.id).sort((a, b) => a - b)).toEqual(
      before.map(({ id }) => Number(id)).sort((a, b) => a - b),
    );
    expect(seen).toEqual([...seen].sort(newestFirst));
  });

  it('pages each filter and their mix with a time range, as a scan of the table would', async () => {
    const everything = await walk(t, `size=500&from=${T0}&to=${T0 + 1000}`);
    const cases: [string, (event: Event) => boolean][] = [
      ['action=token.mint', (e) => e.action === 'token.mint'],
      ['actor=alice', (e) => e.actor === 'alice'],
      ['target=user-3', (e) => e.target === 'user-3'],
      [`from=${T0 + 20}&to=${T0 + 90}`, (e) => e.at >= T0 + 20 && e.at < T0 + 90],
      [
        `action=session.login&actor=alice&from=${T0 + 10}`,
        (e) => e.action === 'session.login' && e.actor === 'alice' && e.at >= T0 + 10,
      ],
      [
        `target=user-5&actor=erp&to=${T0 + 100}`,
        (e) => e.target === 'user-5' && e.actor === 'erp' && e.at < T0 + 100,
      ],
    ];
    for (const [filters, keep] of cases) {
      const expected = everything.filter(keep);
      expect(expected.length).toBeGreaterThan(0);
      // The seeded instants only: the first test added newer rows, and the app writes its own.
      const bounded = [
        filters,
        ...(filters.includes('from=') ? [] : [`from=${T0}`]),
        ...(filters.includes('to=') ? [] : [`to=${T0 + 1000}`]),
      ].join('&');
      const first = await list(t, `${bounded}&size=9`);
      expect(first).toMatchObject({ total: expected.length, totalExact: true });
      expect(await walk(t, `${bounded}&size=9`)).toEqual(expected);
    }
  });

  it('gives no next on the last page, also when it is exactly full', async () => {
    const five = await list(t, `from=${T0}&to=${T0 + 1}&size=7`);
    expect(five.data).toHaveLength(7);
    expect(five.next).toBeUndefined();
    const six = await list(t, `from=${T0}&to=${T0 + 1}&size=6`);
    expect(six.next).toEqual(expect.any(String));
    const rest = await list(t, `from=${T0}&to=${T0 + 1}&size=6&cursor=${six.next}`);
    expect(rest.data).toHaveLength(1);
    expect(rest.next).toBeUndefined();
  });

  it('refuses a cursor it did not give out, and a cursor with a page', async () => {
    const { next } = await list(t, 'size=1');
    for (const [query, message] of [
      ['cursor=abc', 'must be the `next` of an earlier answer'],
      [
        `cursor=${Buffer.from('1.x').toString('base64url')}`,
        'must be the `next` of an earlier answer',
      ],
      ['cursor=', 'must be the `next` of an earlier answer'],
      [`cursor=${next}&page=2`, 'cannot be sent with page'],
    ]) {
      const response = await t.admin('GET', `${AUDIT_LIST}?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        success: false,
        code: '400',
        errors: [{ field: 'cursor', message }],
      });
    }
  });

  it('keeps page working for older clients', async () => {
    const byPage = [
      ...(await list(t, `from=${T0}&to=${T0 + 1000}&size=40&page=1`)).data,
      ...(await list(t, `from=${T0}&to=${T0 + 1000}&size=40&page=2`)).data,
    ];
    expect(byPage).toEqual((await walk(t, `from=${T0}&to=${T0 + 1000}&size=40`)).slice(0, 80));
  });
});

describe('audit/list counts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await seed(
      t,
      Array.from({ length: 10_050 }, (_, i) => row(T0 + i, i < 7 ? { action: 'user.create' } : {})),
    );
  });
  afterAll(() => t.close());

  it('counts up to 10,000 and says when there are more', async () => {
    expect(await list(t, 'size=1')).toMatchObject({ total: 10_000, totalExact: false });
    expect(await list(t, 'action=token.mint&size=1')).toMatchObject({
      total: 10_000,
      totalExact: false,
    });
    expect(await list(t, `from=${T0}&to=${T0 + 10_000}&size=1`)).toMatchObject({
      total: 10_000,
      totalExact: true,
    });
    expect(await list(t, 'action=user.create&size=5')).toMatchObject({
      total: 7,
      totalExact: true,
    });
  });
});

const AUDIT_EXPORT = `${AUDIT_API}/export`;

type Line = Event & { cursor: string };
const lines = (body: string): Line[] =>
  body
    .split('\n')
    .filter((text) => text !== '')
    .map((text) => JSON.parse(text) as Line);

describe('audit/export', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await seed(
      t,
      Array.from({ length: 2500 }, (_, i) =>
        row(T0 + Math.floor(i / 3), {
          action: i % 2 === 0 ? 'token.mint' : 'user.update',
          actor: i % 5 === 0 ? 'alice' : 'erp',
        }),
      ),
    );
  });
  afterAll(() => t.close());

  const exported = async (query: string) => {
    const response = await t.admin('GET', `${AUDIT_EXPORT}?${query}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/x-ndjson/);
    return lines(response.body);
  };

  it('streams every matching event oldest first, in batches, each line with its cursor', async () => {
    const all = await exported(`from=${T0}`);
    expect(all).toHaveLength(2500);
    expect(all).toEqual([...all].sort((a, b) => a.at - b.at || a.id - b.id));
    expect(new Set(all.map((event) => event.id)).size).toBe(2500);
    const mixed = await exported(`from=${T0 + 100}&to=${T0 + 700}&action=user.update&actor=alice`);
    expect(mixed.map((event) => event.id)).toEqual(
      all
        .filter(
          (e) =>
            e.at >= T0 + 100 &&
            e.at < T0 + 700 &&
            e.action === 'user.update' &&
            e.actor === 'alice',
        )
        .map((event) => event.id),
    );
    expect(mixed.length).toBeGreaterThan(0);
  });

  it("resumes after any line's cursor with exactly the rest, and then with what came since", async () => {
    const all = await exported(`from=${T0}`);
    for (const index of [0, 998, 999, 1000, 1500, 2498]) {
      const rest = await exported(`from=${T0}&cursor=${all[index].cursor}`);
      expect(rest.map((event) => event.id)).toEqual(all.slice(index + 1).map((event) => event.id));
    }
    expect(await exported(`from=${T0}&cursor=${all[2499].cursor}`)).toEqual([]);
    await seed(t, [row(T0 + 5000, { action: 'user.create', actor: 'erp' })]);
    const since = await exported(`action=user.create&cursor=${all[2499].cursor}`);
    expect(since.map((event) => event.action)).toEqual(['user.create']);
  });

  it('refuses paging fields and bad cursors with the envelope', async () => {
    for (const [query, field] of [
      ['page=2', 'page'],
      ['size=5', 'size'],
      ['cursor=nope', 'cursor'],
      ['from=x', 'from'],
    ]) {
      const response = await t.admin('GET', `${AUDIT_EXPORT}?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ success: false, code: '400' });
      expect(response.json().errors.map((error: { field: string }) => error.field)).toEqual([
        field,
      ]);
    }
    expect((await t.inject({ method: 'GET', url: AUDIT_EXPORT })).statusCode).toBe(401);
  });
});
