import { randomUUID } from 'node:crypto';
import { UserEntity } from '../src/users/entities/user.entity';
import { insertRows, walkPages } from './support/rows';
import { startTestApp, type TestApp, USER_API } from './support/test-app';

const USER_LIST = `${USER_API}/list`;
const TYPES = ['SYS_Reader', 'SYS_Creator', 'Administrator'] as const;

interface User {
  userid: string;
  username: string;
  usertype: string;
  enabled: '1' | '0';
}
interface ListAnswer {
  success: true;
  data: User[];
  total?: number;
  totalExact?: boolean;
  size?: number;
  next?: string;
}

const user = (username: string, i: number): UserEntity => ({
  id: randomUUID(),
  username,
  passwordHash: null,
  name: null,
  email: null,
  mobile: null,
  dept: null,
  title: null,
  company: null,
  dob: null,
  description: null,
  usertype: TYPES[i % 3],
  roles: [],
  enabled: i % 4 !== 0,
  createdDate: 1_800_000_000_000,
  lastModifiedDate: 1_800_000_000_000,
  accessChangedDate: 1_800_000_000_000,
});

const seed = (t: TestApp, users: UserEntity[]) => insertRows(t, UserEntity, users, 200);

async function list(t: TestApp, query: string): Promise<ListAnswer> {
  const response = await t.admin('GET', `${USER_LIST}?${query}`);
  expect(response.statusCode).toBe(200);
  return response.json() as ListAnswer;
}

/** Every page from the first, by cursor; `between` runs after each page. */
const walk = (t: TestApp, filters: string, between?: () => Promise<void>): Promise<User[]> =>
  walkPages((query) => list(t, query), filters, between);

/** The database's own username order (collations differ between SQLite and PostgreSQL). */
async function stored(t: TestApp): Promise<User[]> {
  return (await list(t, '')).data;
}

describe('user/list by cursor', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    // 600 users besides admin, some of them not plain ASCII.
    await seed(
      t,
      Array.from({ length: 600 }, (_, i) =>
        user(i % 50 === 0 ? `ünï-${i}-名前` : `user-${String(i).padStart(4, '0')}`, i),
      ),
    );
  });
  afterAll(() => t.close());

  it('returns every user exactly once, in username order, while users are added', async () => {
    const before = await stored(t);
    let added = 0;
    const seen = await walk(t, 'size=37', async () => {
      await seed(t, [user(`zz-added-${added}`, added), user(`aa-added-${added}`, added)]);
      added++;
    });
    expect(added).toBeGreaterThan(15);
    const names = seen.map((u) => u.username);
    expect(new Set(names).size).toBe(names.length);
    // Every user present when the walk began, each once; the ones added after the cursor passed
    // their place (zz-...) appear too, the ones before it (aa-...) on a later walk.
    expect(names.filter((name) => !name.includes('-added-'))).toEqual(
      before.map((u) => u.username),
    );
    expect(names.filter((name) => name.startsWith('zz-added-')).length).toBeGreaterThan(0);
    expect(names.filter((name) => name.startsWith('aa-added-'))).toEqual([]);
    const now = await stored(t);
    expect(now.map((u) => u.username).filter((n) => names.includes(n))).toEqual(names);
  });

  it('pages each filter and both, as the whole list filtered would', async () => {
    const everything = await stored(t);
    const cases: [string, (u: User) => boolean][] = [
      ['usertype=Administrator', (u) => u.usertype === 'Administrator'],
      ['usertype=sys_creator', (u) => u.usertype === 'SYS_Creator'],
      ['enabled=0', (u) => u.enabled === '0'],
      ['enabled=1', (u) => u.enabled === '1'],
      ['usertype=SYS_Reader&enabled=0', (u) => u.usertype === 'SYS_Reader' && u.enabled === '0'],
    ];
    for (const [filters, keep] of cases) {
      const expected = everything.filter(keep);
      expect(expected.length).toBeGreaterThan(0);
      const first = await list(t, `${filters}&size=11`);
      expect(first).toMatchObject({ total: expected.length, totalExact: true, size: 11 });
      expect(await walk(t, `${filters}&size=11`)).toEqual(expected);
      expect((await list(t, filters)).data).toEqual(expected);
    }
  });

  it('gives no next on the last page, also when it is exactly full', async () => {
    const admins = (await list(t, 'usertype=Administrator&size=500')).data.length;
    const full = await list(t, `usertype=Administrator&size=${admins}`);
    expect(full.data).toHaveLength(admins);
    expect(full.next).toBeUndefined();
    const short = await list(t, `usertype=Administrator&size=${admins - 1}`);
    expect(short.next).toEqual(expect.any(String));
    const rest = await list(t, `usertype=Administrator&size=${admins - 1}&cursor=${short.next}`);
    expect(rest.data).toHaveLength(1);
    expect(rest.next).toBeUndefined();
  });

  it('pages with 50 users when only a cursor is sent', async () => {
    const first = await list(t, 'size=50');
    const second = await list(t, `cursor=${first.next}`);
    expect(second.size).toBe(50);
    expect(second.data).toHaveLength(50);
    expect((await walk(t, 'size=50')).slice(50, 100)).toEqual(second.data);
  });

  it('answers every user at once, as before, without size or cursor', async () => {
    const response = await t.admin('GET', USER_LIST);
    const body = response.json() as ListAnswer;
    expect(Object.keys(body).sort()).toEqual(['data', 'success']);
    expect(body.data.length).toBeGreaterThan(600);
  });

  it('refuses a cursor it did not give out, an offset, and bad filters with the envelope', async () => {
    const { next } = await list(t, 'size=1');
    for (const [query, field, message] of [
      ['cursor=abc', 'cursor', 'must be the `next` of an earlier answer'],
      ['cursor=', 'cursor', 'must be the `next` of an earlier answer'],
      [
        `cursor=${Buffer.from('has space').toString('base64url')}`,
        'cursor',
        'must be the `next` of an earlier answer',
      ],
      [`cursor=${next}&page=2`, 'page', expect.any(String)],
      [`cursor=${next}&offset=50`, 'offset', expect.any(String)],
      ['size=0', 'size', 'must be from 1 to 500'],
      ['size=501', 'size', 'must be from 1 to 500'],
      ['usertype=root', 'usertype', expect.stringContaining('must be one of')],
      ['enabled=yes', 'enabled', 'must be "1" or "0"'],
    ] as const) {
      const response = await t.admin('GET', `${USER_LIST}?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        success: false,
        code: '400',
        errors: [{ field, message }],
      });
    }
  });
});

describe('user/list counts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await seed(
      t,
      Array.from({ length: 10_050 }, (_, i) => user(`u${String(i).padStart(5, '0')}`, i)),
    );
  }, 60_000);
  afterAll(() => t.close());

  it('counts up to 10,000 and says when there are more', async () => {
    expect(await list(t, 'size=1')).toMatchObject({ total: 10_000, totalExact: false });
    expect(await list(t, 'enabled=1&size=1')).toMatchObject({ total: 7538, totalExact: true });
    expect(await list(t, 'usertype=Administrator&size=1')).toMatchObject({
      total: 3351,
      totalExact: true,
    });
  });
});
