import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPostgresDatabase, POSTGRES_URL } from './support/database';
import { verifyHmacToken } from './support/jwt';
import { sleep, startServiceProcess, stopServiceProcess } from './support/service-process';
import { basic, TOKEN_API } from './support/test-app';

const ADMIN = { username: 'admin', password: 'operations-admin-1' };
const SECRET = 'operations-secret-0123456789-abcdefghij';
const ROTATE = resolve(process.cwd(), 'dist/app/cli/rotate-secrets.js');

describe('operations on the real process', () => {
  let dataDir: string;
  let postgres: { url: string; drop: () => Promise<void> } | undefined;
  const start = (env: Record<string, string> = {}) =>
    startServiceProcess({ dataDir, databaseUrl: postgres?.url, admin: ADMIN, env });
  const call = (origin: string, method: string, path: string, body?: object) =>
    fetch(`${origin}${path}`, {
      method,
      headers: {
        authorization: basic(ADMIN.username, ADMIN.password),
        'content-type': 'application/json',
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  const mint = (origin: string) =>
    call(origin, 'POST', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'alice' },
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datafor-ops-'));
    postgres = POSTGRES_URL ? await createPostgresDatabase() : undefined;
  });
  afterAll(async () => {
    await postgres?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('on SIGTERM turns readiness false first, finishes the requests in flight, and exits 0', async () => {
    const service = await start({ SHUTDOWN_DRAIN: '1' });
    expect(
      (
        await call(service.origin, 'POST', `${TOKEN_API}/update`, {
          name: 'ERP',
          secret: SECRET,
          enable: '1',
        })
      ).status,
    ).toBe(200);
    const inFlight = call(service.origin, 'POST', '/plugin/datafor/api/extension/auth/login', {
      username: 'nobody',
      password: 'x'.repeat(12),
    });
    await sleep(5);
    service.child.kill('SIGTERM');
    await sleep(300);
    const ready = await fetch(`${service.origin}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ success: false, code: '503' });
    expect((await inFlight).status).toBe(401);
    expect(await service.exited).toEqual({ code: 0, signal: null });
  });

  it('rotates the master key: every secret re-sealed in one go, the old key no longer opens them', async () => {
    const before = readFileSync(join(dataDir, 'secrets.key'), 'utf8');
    const rotation = spawnSync(process.execPath, [ROTATE], {
      env: {
        PATH: process.env.PATH ?? '',
        DATA_DIR: dataDir,
        ...(postgres ? { DATABASE_URL: postgres.url } : {}),
      },
      encoding: 'utf8',
    });
    expect(rotation.status).toBe(0);
    expect(rotation.stdout).toContain('re-sealed 1 secrets');
    expect(rotation.stdout + rotation.stderr).not.toContain(SECRET);
    const after = readFileSync(join(dataDir, 'secrets.key'), 'utf8');
    expect(after).not.toBe(before);
    expect(rotation.stdout).not.toContain(after.trim());

    const service = await start();
    try {
      const minted = await mint(service.origin);
      expect(minted.status).toBe(200);
      verifyHmacToken(((await minted.json()) as { token: string }).token, SECRET);
    } finally {
      await stopServiceProcess(service);
    }
    await expect(start({ SECRETS_KEY: before.trim() })).rejects.toThrow(
      /does not open with this master key/,
    );
  });

  it('refuses a NEW_SECRETS_KEY that is not a key, and changes nothing', async () => {
    const before = readFileSync(join(dataDir, 'secrets.key'), 'utf8');
    const rotation = spawnSync(process.execPath, [ROTATE], {
      env: {
        PATH: process.env.PATH ?? '',
        DATA_DIR: dataDir,
        NEW_SECRETS_KEY: 'nope',
        ...(postgres ? { DATABASE_URL: postgres.url } : {}),
      },
      encoding: 'utf8',
    });
    expect(rotation.status).toBe(1);
    expect(rotation.stderr).toContain('NEW_SECRETS_KEY must be 32 bytes in base64');
    expect(readFileSync(join(dataDir, 'secrets.key'), 'utf8')).toBe(before);
  });
});
