import type { LightMyRequestResponse } from 'fastify';
import { AuditEventEntity } from '../src/audit/entities/audit-event.entity';
import {
  ADMIN,
  basic,
  SESSION_API,
  startTestApp,
  TestApp,
  TOKEN_API,
  USER_API,
} from './support/test-app';

const DEVICE_COOKIE = 'DATAFOR_DEVICE';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sign-in helpers bound to one app: every request from a chosen address, with an optional device cookie. */
function client(t: () => TestApp) {
  const login = (username: string, password: string, address: string, device?: string) =>
    t().inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      payload: { username, password },
      remoteAddress: address,
      ...(device ? { cookies: { [DEVICE_COOKIE]: device } } : {}),
    });
  const basicCall = (username: string, password: string, address: string) =>
    t().inject({
      method: 'GET',
      url: `${TOKEN_API}/list`,
      headers: { authorization: basic(username, password) },
      remoteAddress: address,
    });
  const deviceCookie = (response: LightMyRequestResponse) => {
    const cookie = response.cookies.find((c) => c.name === DEVICE_COOKIE);
    expect(cookie).toBeDefined();
    return cookie!;
  };
  const lockRows = (username: string) =>
    t()
      .dataSource.getRepository(AuditEventEntity)
      .find({
        select: { actor: true, target: true, client: true, outcome: true, details: true },
        where: { action: 'auth.lock', target: username },
        order: { id: 'ASC' },
      });
  return { login, basicCall, deviceCookie, lockRows };
}

const expectRefused = (response: LightMyRequestResponse, maxSeconds: number) => {
  expect(response.statusCode).toBe(429);
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  expect(response.json()).toEqual({
    success: false,
    code: '429',
    msg: 'too many failed sign-ins: try again later',
  });
};

describe('a distributed attack on the Administrator', () => {
  let t: TestApp;
  const { login, basicCall, deviceCookie, lockRows } = client(() => t);
  const OFFICE = '10.1.0.1';
  let ownerDevice: string;
  let otherUsersDevice: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_MAX_FAILURES: '10', LOGIN_FAILURE_WINDOW: '900' } });
    // Before the attack, the owner signed in from the office, and from a laptop elsewhere.
    expect((await login(ADMIN.username, ADMIN.password, OFFICE)).statusCode).toBe(200);
    const laptop = await login(ADMIN.username, ADMIN.password, '192.168.7.7');
    ownerDevice = deviceCookie(laptop).value;
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'mallory',
      password: 'mallory-password',
    });
    otherUsersDevice = deviceCookie(
      await login('mallory', 'mallory-password', '198.51.100.66'),
    ).value;
    // The measured attack: 50 wrong passwords for the admin's name over 5 addresses.
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) {
      const attempt = await login(ADMIN.username, `guess-${i}`, `203.0.113.${1 + (i % 5)}`);
      statuses.push(attempt.statusCode);
    }
    expect(statuses).toEqual([...Array(10).fill(401), ...Array(40).fill(429)]);
  });
  afterAll(() => t.close());

  it('sets the device cookie HttpOnly and SameSite=Strict, naming the user but holding no secret', async () => {
    const response = await login(ADMIN.username, ADMIN.password, OFFICE);
    const cookie = deviceCookie(response);
    expect(cookie).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: 2592000,
    });
    const [name] = cookie.value.split('.');
    expect(Buffer.from(name, 'base64url').toString()).toBe(ADMIN.username);
    expect(cookie.value).not.toContain(ADMIN.password);
  });

  it('lets the owner in from the address the owner signed in from before, by session and by Basic', async () => {
    expect((await login(ADMIN.username, ADMIN.password, OFFICE)).statusCode).toBe(200);
    expect((await basicCall(ADMIN.username, ADMIN.password, OFFICE)).statusCode).toBe(200);
  });

  it('lets the owner in from a new address with the device cookie', async () => {
    expect(
      (await login(ADMIN.username, ADMIN.password, '198.51.100.20', ownerDevice)).statusCode,
    ).toBe(200);
  });

  it('answers a stranger 429 with Retry-After and the envelope, even for the right password', async () => {
    expectRefused(await login(ADMIN.username, ADMIN.password, '198.51.100.21'), 60);
    expectRefused(await basicCall(ADMIN.username, ADMIN.password, '198.51.100.21'), 60);
    expectRefused(await login(ADMIN.username, 'guess-x', '198.51.100.21'), 60);
  });

  it("does not exempt another user's device cookie, or a forged one", async () => {
    expectRefused(
      await login(ADMIN.username, ADMIN.password, '198.51.100.22', otherUsersDevice),
      60,
    );
    const [, issuedAt, device, mac] = otherUsersDevice.split('.');
    const renamed = [Buffer.from(ADMIN.username).toString('base64url'), issuedAt, device, mac].join(
      '.',
    );
    expectRefused(await login(ADMIN.username, ADMIN.password, '198.51.100.22', renamed), 60);
    const [name, , ownDevice, ownMac] = ownerDevice.split('.');
    const reissued = [name, String(Number(issuedAt) + 86400), ownDevice, ownMac].join('.');
    expectRefused(await login(ADMIN.username, ADMIN.password, '198.51.100.22', reissued), 60);
    expectRefused(await login(ADMIN.username, ADMIN.password, '198.51.100.22', 'garbage'), 60);
  });

  it('records the lock in the audit trail, once, without a password', async () => {
    expect(await lockRows(ADMIN.username)).toEqual([
      {
        actor: ADMIN.username,
        target: ADMIN.username,
        client: '203.0.113.5',
        outcome: 'success',
        details: { seconds: 60, lockNumber: 1 },
      },
    ]);
    const everything = JSON.stringify(await t.dataSource.query('SELECT * FROM audit_events'));
    for (const secret of [ADMIN.password, 'guess-1', ownerDevice])
      expect(everything).not.toContain(secret);
  });
});

describe('successive locks of a username', () => {
  let t: TestApp;
  const { login, lockRows } = client(() => t);

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        LOGIN_MAX_FAILURES: '2',
        LOGIN_LOCK_DURATION: '1',
        LOGIN_LOCK_MAX_DURATION: '2',
      },
    });
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'target',
      password: 'target-password',
    });
  });
  afterAll(() => t.close());

  it('double the wait each time, up to LOGIN_LOCK_MAX_DURATION, each one audited', async () => {
    const waits: number[] = [];
    for (let round = 0; round < 3; round++) {
      expect((await login('target', 'guess-a', `203.0.114.${2 * round + 1}`)).statusCode).toBe(401);
      expect((await login('target', 'guess-b', `203.0.114.${2 * round + 2}`)).statusCode).toBe(401);
      const refused = await login('target', 'target-password', '198.51.100.30');
      expect(refused.statusCode).toBe(429);
      waits.push(Number(refused.headers['retry-after']));
      await sleep(waits[round] * 1000 + 150);
    }
    expect(waits).toEqual([1, 2, 2]);
    expect((await lockRows('target')).map((row) => row.details)).toEqual([
      { seconds: 1, lockNumber: 1 },
      { seconds: 2, lockNumber: 2 },
      { seconds: 2, lockNumber: 3 },
    ]);
    // Once a lock has run out, a stranger with the right password signs in again.
    expect((await login('target', 'target-password', '198.51.100.30')).statusCode).toBe(200);
  });
});

describe('many failures from one address (a company NAT)', () => {
  let t: TestApp;
  const { login, basicCall } = client(() => t);
  const NAT = '192.0.2.10';

  beforeAll(async () => {
    // 5 failures per 10 s: past them, the address gets one try per 2 s for names it does not know.
    t = await startTestApp({
      env: { LOGIN_MAX_FAILURES: '5', LOGIN_FAILURE_WINDOW: '10', AUTH_CACHE_TTL: '0' },
    });
    for (const username of ['alice', 'bob'])
      await t.admin('POST', `${USER_API}/insertOrUpdate`, {
        username,
        password: `${username}-password`,
        usertype: 'Administrator',
      });
    expect((await login('alice', 'alice-password', NAT)).statusCode).toBe(200);
    for (let i = 0; i < 5; i++)
      expect((await login(`someone-${i}`, 'guess', NAT)).statusCode).toBe(401);
  });
  afterAll(() => t.close());

  it('slow the address down: one try per window/max seconds for names not known there', async () => {
    expect((await login('someone-5', 'guess', NAT)).statusCode).toBe(401);
    expectRefused(await login('someone-6', 'guess', NAT), 2);
    expectRefused(await login('bob', 'bob-password', NAT), 2);
  });

  it('do not stop a user who signed in from that address before', async () => {
    expect((await login('alice', 'alice-password', NAT)).statusCode).toBe(200);
    expect((await basicCall('alice', 'alice-password', NAT)).statusCode).toBe(200);
  });

  it('do not lock the other accounts behind the address: a newcomer gets the next slot', async () => {
    await sleep(2100);
    expect((await login('bob', 'bob-password', NAT)).statusCode).toBe(200);
    // Bob is known there now.
    expect((await login('bob', 'bob-password', NAT)).statusCode).toBe(200);
  });

  it('leave other addresses alone', async () => {
    expect((await login('someone-7', 'guess', '192.0.2.11')).statusCode).toBe(401);
  });
});

describe('guesses from a known client', () => {
  let t: TestApp;
  const { login, deviceCookie } = client(() => t);
  const SHARED = '192.0.2.50';

  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_MAX_FAILURES: '3' } });
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'carol',
      password: 'carol-password',
    });
  });
  afterAll(() => t.close());

  it('are limited per username and client, even from an address the user is known at', async () => {
    const device = deviceCookie(await login('carol', 'carol-password', SHARED)).value;
    for (let i = 0; i < 3; i++)
      expect((await login('carol', `guess-${i}`, SHARED)).statusCode).toBe(401);
    // Another person behind the same address guessed: that address is refused for carol...
    expectRefused(await login('carol', 'carol-password', SHARED), 900);
    // ...but carol's browser is a client of its own.
    expect((await login('carol', 'carol-password', SHARED, device)).statusCode).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await login('carol', `typo-${i}`, SHARED, device)).statusCode).toBe(401);
    expectRefused(await login('carol', 'carol-password', SHARED, device), 900);
  });
});

describe('a Basic service account (the ERP)', () => {
  let t: TestApp;
  const { basicCall, lockRows } = client(() => t);
  const ERP = '10.9.0.1';

  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_MAX_FAILURES: '3', AUTH_CACHE_TTL: '0' } });
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'erp',
      password: 'erp-password',
      usertype: 'Administrator',
    });
    expect((await basicCall('erp', 'erp-password', ERP)).statusCode).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await basicCall('erp', `guess-${i}`, `203.0.115.${i}`)).statusCode).toBe(401);
  });
  afterAll(() => t.close());

  it('keeps working from its known address while its name is locked for strangers', async () => {
    expect(await lockRows('erp')).toHaveLength(1);
    for (let i = 0; i < 3; i++)
      expect((await basicCall('erp', 'erp-password', ERP)).statusCode).toBe(200);
    expectRefused(await basicCall('erp', 'erp-password', '10.9.0.2'), 60);
  });
});

describe('known clients expire', () => {
  let t: TestApp;
  let now: number;
  const { login, deviceCookie } = client(() => t);

  beforeAll(async () => {
    now = Date.now();
    t = await startTestApp({
      env: { LOGIN_MAX_FAILURES: '2', LOGIN_KNOWN_CLIENT_TTL: '3600' },
      clock: { now: () => now },
    });
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'dave',
      password: 'dave-password',
    });
  });
  afterAll(() => t.close());

  it('after LOGIN_KNOWN_CLIENT_TTL: neither the address nor the device cookie exempts any more', async () => {
    now = Date.now();
    const device = deviceCookie(await login('dave', 'dave-password', '10.7.0.1')).value;
    expect((await login('dave', 'guess-1', '203.0.116.1')).statusCode).toBe(401);
    expect((await login('dave', 'guess-2', '203.0.116.2')).statusCode).toBe(401);
    expect((await login('dave', 'dave-password', '10.7.0.1')).statusCode).toBe(200);
    expect((await login('dave', 'dave-password', '10.7.0.2', device)).statusCode).toBe(200);
    // Well past the TTL, whatever the time the audit rows got (the audit trail keeps real time).
    now += 4000 * 1000;
    expectRefused(await login('dave', 'dave-password', '10.7.0.1'), 60);
    expectRefused(await login('dave', 'dave-password', '10.7.0.2', device), 60);
  });
});
