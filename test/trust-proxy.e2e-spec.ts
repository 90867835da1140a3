import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { MAIN } from './support/service-process';
import { ADMIN_AUTH, basic, startTestApp, TestApp, TOKEN_API } from './support/test-app';

/**
 * TRUST_PROXY (issue 7, item 4): the client address that the rate limit, the failed sign-in count
 * and the audit trail see is the first one not written by a trusted proxy, so a client cannot
 * pick its own with a left-most X-Forwarded-For.
 */

const LIST = `${TOKEN_API}/list`;

/** A request from `peer` (the socket's address) carrying an X-Forwarded-For. */
function from(
  t: TestApp,
  peer: string,
  forwardedFor: string | undefined,
  authorization = ADMIN_AUTH,
): Promise<LightMyRequestResponse> {
  return t.inject({
    method: 'GET',
    url: LIST,
    remoteAddress: peer,
    headers: {
      authorization,
      ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
    },
  });
}

/** The client addresses the audit trail recorded for failed Basic sign-ins of `username`. */
async function failureClients(t: TestApp, username: string): Promise<string[]> {
  const rows: { client: string }[] = await t.dataSource.query(
    `SELECT client FROM audit_events WHERE action = 'auth.basic' AND outcome = 'failure' AND target = '${username}' ORDER BY id`,
  );
  return rows.map((row) => row.client);
}

describe('TRUST_PROXY as a hop count (1: one reverse proxy in front)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { TRUST_PROXY: '1', RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW: '60' },
    });
  });
  afterAll(() => t.close());

  it('rate-limits the address the proxy saw, whatever the client wrote left of it', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 7; i++) {
      // The proxy (10.0.0.2) appends the address it saw, 203.0.113.7, to the client's own header.
      const response = await from(t, '10.0.0.2', `198.51.100.${i}, 203.0.113.7`);
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    // Another client behind the same proxy has its own count.
    expect((await from(t, '10.0.0.2', '203.0.113.8')).statusCode).toBe(200);
  });

  it('records the address the proxy saw for a failed sign-in, not the spoofed one', async () => {
    const response = await from(
      t,
      '10.0.0.2',
      '192.0.2.66, 203.0.113.9',
      basic('hop-victim', 'wrong-password'),
    );
    expect(response.statusCode).toBe(401);
    expect(await failureClients(t, 'hop-victim')).toEqual(['203.0.113.9']);
  });
});

describe('TRUST_PROXY as a hop count, failed sign-ins', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { TRUST_PROXY: '1', LOGIN_MAX_FAILURES: '3', LOGIN_FAILURE_WINDOW: '900' },
    });
  });
  afterAll(() => t.close());

  it('does not buy new password guesses with a new left-most X-Forwarded-For', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const response = await from(
        t,
        '10.0.0.2',
        `198.51.100.${i}, 203.0.113.10`,
        basic('admin', `guess-${i}`),
      );
      statuses.push(response.statusCode);
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toEqual([429, 429, 429]);
  });
});

describe('TRUST_PROXY as the proxies addresses and CIDRs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { TRUST_PROXY: '10.0.0.0/8, 127.0.0.1', RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '60' },
    });
  });
  afterAll(() => t.close());

  it('rate-limits the first address no trusted proxy wrote', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i++) {
      // Two trusted proxies: 10.0.0.9 saw 203.0.113.20, then 10.1.2.3 saw 10.0.0.9.
      const response = await from(t, '10.1.2.3', `198.51.100.${i}, 203.0.113.20, 10.0.0.9`);
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect((await from(t, '10.1.2.3', '203.0.113.21')).statusCode).toBe(200);
  });

  it('ignores the X-Forwarded-For of a peer that is not a trusted proxy', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const response = await from(t, '198.51.100.50', `203.0.113.${30 + i}`);
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('records the real client of a failed sign-in, through proxies or not', async () => {
    const wrong = basic('cidr-victim', 'wrong-password');
    expect((await from(t, '10.1.2.3', '192.0.2.1, 203.0.113.40', wrong)).statusCode).toBe(401);
    expect((await from(t, '198.51.100.60', '203.0.113.41', wrong)).statusCode).toBe(401);
    expect(await failureClients(t, 'cidr-victim')).toEqual(['203.0.113.40', '198.51.100.60']);
  });
});

describe('TRUST_PROXY lists that trust every client', () => {
  it.each(['::ffff:0.0.0.0/96', '0.0.0.0/1,128.0.0.0/1', '::/1,8000::/1', '10.0.0.1,::/1'])(
    'stops the start of the real process when TRUST_PROXY is %p, naming the variable',
    (value) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'datafor-trust-'));
      try {
        const started = spawnSync(process.execPath, [MAIN], {
          env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: '0', TRUST_PROXY: value },
          encoding: 'utf8',
          timeout: 20_000,
        });
        expect(started.status).toBe(1);
        expect(started.stderr).toMatch(
          /TRUST_PROXY must be .*a list that covers all of IPv4 or all of IPv6/,
        );
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    30_000,
  );
});
