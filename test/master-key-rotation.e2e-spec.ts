import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { SQLITE_FILE } from '../src/app/database/database.module';
import { resealColumn } from '../src/app/secrets/reseal';
import { SEALED_COLUMNS } from '../src/app/secrets/sealed-columns';
import { SecretBox } from '../src/secrets/secret-box';
import { KEY_CHECK_CONTEXT } from '../src/secrets/secrets-key-check.service';
import { TokenConfigEntity } from '../src/token/entities/token-config.entity';
import { createPostgresDatabase, POSTGRES_URL } from './support/database';
import { verifyHmacToken } from './support/jwt';
import {
  type ServiceProcess,
  startServiceProcess,
  stopServiceProcess,
} from './support/service-process';
import { basic, TOKEN_API } from './support/test-app';

const ADMIN = { username: 'admin', password: 'rotation-admin-1' };
const ROTATE = resolve(process.cwd(), 'dist/app/cli/rotate-secrets.js');
const newKey = () => randomBytes(32).toString('base64');
const secretOf = (name: string, version = 1) => `${name}-secret-v${version}-0123456789abcdefghij`;

/**
 * The commands of the README's bash block after `<!-- master-key-rotation -->`, in order (its
 * comment lines left out).
 */
function runbook(): string[] {
  const readme = readFileSync(resolve(process.cwd(), 'README.md'), 'utf8');
  const block = /<!-- master-key-rotation -->\s*```bash\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md has no bash block after <!-- master-key-rotation -->');
  return block[1].split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'));
}

/** The `NAME="$VAR"` assignments before a command, with the test's OLD and NEW put in. */
function assignments(line: string, keys: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, name, value] of line.matchAll(/(?:^|\s)([A-Z_]+)="?\$\{?(\w+)\}?"?(?=\s)/g)) {
    if (!(value in keys))
      throw new Error(`the runbook uses $${value}, which the test does not set`);
    env[name] = keys[value];
  }
  return env;
}

/** Runs a command line of the runbook in bash; answers its exit code and output. */
function runBash(
  line: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', line], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '', ...env },
      // No stdin: bash would take a socket there for a remote shell and read bash.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('the master key rotated online (SECRETS_KEY_PREVIOUS), on the real process', () => {
  let dataDir: string;
  let postgres: { url: string; drop: () => Promise<void> } | undefined;
  let service: ServiceProcess | undefined;

  const start = (env: Record<string, string>) =>
    startServiceProcess({ dataDir, databaseUrl: postgres?.url, admin: ADMIN, env });
  /** Restarts the one instance with `env`: a rolling restart of a one-instance fleet. */
  const roll = async (env: Record<string, string>) => {
    if (service) await stopServiceProcess(service);
    service = undefined;
    service = await start(env);
    return service;
  };
  const call = (path: string, body: object) =>
    fetch(`${service!.origin}${TOKEN_API}/${path}`, {
      method: 'POST',
      headers: {
        authorization: basic(ADMIN.username, ADMIN.password),
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
  const update = async (name: string, secret: string) =>
    expect((await call('update', { name, secret, enable: '1' })).status).toBe(200);
  /**
   * Mints for alice with the secret of `version` and checks the token against it: under the
   * configuration's name (its first key), or a kid of its own (a key an update replaced).
   */
  const mint = async (name: string, version: number) => {
    const secret = secretOf(name, version);
    const response = await call('generate', {
      name,
      privateKey: secret,
      payload: { username: 'alice' },
    });
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    expect(verifyHmacToken(token, secret).header.kid).toMatch(
      version === 1 ? new RegExp(`^${name}$`) : new RegExp(`^${name}\\.[A-Za-z0-9_-]{8}$`),
    );
  };
  /** The rotation CLI on the built service (`npm run secrets:rotate` builds it first). */
  const rotateCommand = (line: string) =>
    line.replace('npm run secrets:rotate', `node ${JSON.stringify(ROTATE)}`);
  const databaseEnv = () => ({
    DATA_DIR: dataDir,
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
  });
  /** The key check's canary as stored. */
  const storedCanary = async (): Promise<string> => {
    const query = 'SELECT sealed FROM secrets_key_check';
    if (!postgres) {
      const db = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
      try {
        return (db.prepare(query).get() as { sealed: string }).sealed;
      } finally {
        db.close();
      }
    }
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      return (await client.query<{ sealed: string }>(query)).rows[0].sealed;
    } finally {
      await client.end();
    }
  };
  /** Mints with every configuration in turn until stopped; answers the statuses it got. */
  const mintLoop = (configs: [string, string][]) => {
    let running = true;
    const statuses: number[] = [];
    const done = (async () => {
      for (let i = 0; running; i++) {
        const [name, secret] = configs[i % configs.length];
        const response = await call('generate', {
          name,
          privateKey: secret,
          payload: { username: 'alice' },
        });
        statuses.push(response.status);
        await response.arrayBuffer();
      }
    })();
    return async () => {
      running = false;
      await done;
      return statuses;
    };
  };

  // A fresh store for each test, so that the counts printed are that test's.
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datafor-rotation-'));
    postgres = POSTGRES_URL ? await createPostgresDatabase() : undefined;
  });
  afterEach(async () => {
    if (service) await stopServiceProcess(service);
    service = undefined;
    await postgres?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("follows the README's runbook as written: every mint answers 200 during the re-seal, then the old key is refused", async () => {
    const OLD = newKey();
    const NEW = newKey();
    const names = ['ERP', 'CRM', 'HR', 'WMS'];
    await roll({ SECRETS_KEY: OLD });
    for (const name of names) await update(name, secretOf(name));
    await mint('ERP', 1);
    // Every other sealed column holds a value too: a previous key in its overlap (OPS, rotated),
    // and a service-held private key with its predecessor (BI, made then rotated).
    await update('OPS', secretOf('OPS'));
    expect((await call('rotate', { name: 'OPS', secret: secretOf('OPS', 2) })).status).toBe(200);
    const bi = { name: 'BI', algorithm: 'ES256', keyholder: 'service', secret: secretOf('BI') };
    expect((await call('update', { ...bi, enable: '1' })).status).toBe(200);
    expect((await call('rotate', { name: 'BI' })).status).toBe(200);

    const steps = runbook();
    expect(steps).toHaveLength(3);
    const [rollBoth, rotate, rollNew] = steps;
    expect(rollBoth).toMatch(/ npm start$/);
    expect(rotate).toMatch(/ npm run secrets:rotate$/);
    expect(rollNew).toMatch(/ npm start$/);

    // 1. Both keys: what OLD sealed still opens; WMS changed now is sealed under NEW.
    await roll(assignments(rollBoth, { OLD, NEW }));
    for (const name of names) await mint(name, 1);
    await update('WMS', secretOf('WMS', 2));

    // 2. The re-seal, while the instance keeps minting.
    const stopMinting = mintLoop(
      names.map((name) => [name, secretOf(name, name === 'WMS' ? 2 : 1)]),
    );
    const rotation = await runBash(rotateCommand(rotate), { OLD, NEW, ...databaseEnv() });
    const statuses = await stopMinting();
    expect(rotation.stderr).toBe('');
    expect(rotation.code).toBe(0);
    expect(rotation.stdout).toContain(
      // 5 configuration secrets (WMS was sealed under NEW), BI's private key, 2 previous keys.
      're-sealed 8 secrets under SECRETS_KEY (1 already were); SECRETS_KEY_PREVIOUS can now be dropped',
    );
    for (const secret of [OLD, NEW, ...[...names, 'OPS', 'BI'].map((name) => secretOf(name))])
      expect(rotation.stdout).not.toContain(secret);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);

    // Run again: nothing is left under the old key.
    const again = await runBash(rotateCommand(rotate), { OLD, NEW, ...databaseEnv() });
    expect(again.stdout).toContain('re-sealed 0 secrets under SECRETS_KEY (9 already were)');

    // 3. The new key alone.
    await roll(assignments(rollNew, { OLD, NEW }));
    expect(assignments(rollNew, { OLD, NEW })).toEqual({ SECRETS_KEY: NEW });
    for (const name of names) await mint(name, name === 'WMS' ? 2 : 1);
    // The re-sealed keys open: OPS's previous secret still mints in its overlap, BI still signs.
    for (const version of [1, 2]) {
      const answer = await call('generate', {
        name: 'OPS',
        privateKey: secretOf('OPS', version),
        payload: { username: 'alice' },
      });
      expect(answer.status).toBe(200);
    }
    const signed = await call('generate', {
      name: 'BI',
      privateKey: secretOf('BI'),
      payload: { username: 'alice' },
    });
    expect(signed.status).toBe(200);
    const jwks = (await (await fetch(`${service!.origin}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys).toHaveLength(2);
    await stopServiceProcess(service!);
    service = undefined;

    // The key check was re-sealed too (last): the old key alone stops the start, naming SECRETS_KEY.
    expect(
      new SecretBox(Buffer.from(NEW, 'base64')).isCurrent(await storedCanary(), KEY_CHECK_CONTEXT),
    ).toBe(true);
    await expect(start({ SECRETS_KEY: OLD })).rejects.toThrow(
      /does not open with this master key[^"]*SECRETS_KEY/,
    );
  });

  it('never overwrites a configuration updated while the re-seal runs', async () => {
    const OLD = newKey();
    const NEW = newKey();
    const names = Array.from({ length: 60 }, (_, i) => `BULK${i}`);
    await roll({ SECRETS_KEY: OLD });
    for (const name of names) await update(name, secretOf(name));
    await roll({ SECRETS_KEY: NEW, SECRETS_KEY_PREVIOUS: OLD });

    // Every other configuration gets a new secret while the rotation walks the rows.
    const changed = names.filter((_, i) => i % 2 === 1);
    const rotation = runBash(`node ${JSON.stringify(ROTATE)}`, {
      SECRETS_KEY: NEW,
      SECRETS_KEY_PREVIOUS: OLD,
      ...databaseEnv(),
    });
    for (const name of changed) await update(name, secretOf(name, 2));
    const { code, stdout, stderr } = await rotation;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [, resealed, current] = /re-sealed (\d+) secrets under SECRETS_KEY \((\d+) already were\)/
      .exec(stdout)!
      .map(Number);
    expect(resealed + current).toBe(names.length);
    expect(resealed).toBeGreaterThanOrEqual(names.length - changed.length);

    await roll({ SECRETS_KEY: NEW });
    for (const name of names) await mint(name, changed.includes(name) ? 2 : 1);
  });
});

describe('resealColumn (the re-seal of one sealed column)', () => {
  const oldKey = randomBytes(32);
  const oldBox = new SecretBox(oldKey);
  const newKey = randomBytes(32);
  const box = new SecretBox(newKey);
  const [configs] = SEALED_COLUMNS;
  let dataSource: DataSource;
  let db: Database.Database;

  beforeEach(async () => {
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [TokenConfigEntity],
      synchronize: true,
    }).initialize();
    db = (dataSource.driver as unknown as { databaseConnection: Database.Database })
      .databaseConnection;
    for (const name of ['ERP', 'CRM'])
      await dataSource.manager.insert(TokenConfigEntity, {
        name,
        tokenName: 'token',
        secretSealed: oldBox.seal(secretOf(name), name),
        expire: 60,
        fieldmap: { username: name },
        algorithm: 'HS256',
        enabled: true,
        initUser: false,
        initRoles: [],
        initPasswordHash: null,
        createdDate: 0,
        lastModifiedDate: 0,
        creatorId: 'admin',
      });
  });
  afterEach(() => dataSource.destroy());

  const stored = async (name: string) =>
    (await dataSource.manager.findOneByOrFail(TokenConfigEntity, { name })).secretSealed;

  it('re-seals under the current key what was under a previous one, and skips the rest', async () => {
    const rotating = new SecretBox(newKey, [randomBytes(32), oldKey]);
    expect(await resealColumn(dataSource.manager, configs, rotating)).toEqual({
      resealed: 2,
      current: 0,
    });
    expect(box.open(await stored('ERP'), 'ERP')).toBe(secretOf('ERP'));
    expect(await resealColumn(dataSource.manager, configs, rotating)).toEqual({
      resealed: 0,
      current: 2,
    });
  });

  it('leaves a value written between its read and its update, and reads the row again', async () => {
    const rotating = new SecretBox(newKey, [oldKey]);
    // A token/update of ERP lands right after the rotation read the rows (better-sqlite3 is
    // synchronous: it commits inside the rotation's first seal).
    let raced = false;
    const seal = rotating.seal.bind(rotating);
    rotating.seal = (plaintext, context) => {
      if (!raced && context === 'ERP') {
        raced = true;
        db.prepare('UPDATE token_configs SET secret_sealed = ? WHERE name = ?').run(
          box.seal(secretOf('ERP', 2), 'ERP'),
          'ERP',
        );
      }
      return seal(plaintext, context);
    };
    const count = await resealColumn(dataSource.manager, configs, rotating);
    expect(raced).toBe(true);
    expect(count).toEqual({ resealed: 1, current: 1 });
    expect(box.open(await stored('ERP'), 'ERP')).toBe(secretOf('ERP', 2));
    expect(box.open(await stored('CRM'), 'CRM')).toBe(secretOf('CRM'));
  });

  it('re-reads a row changed back under the old key, and re-seals that value', async () => {
    const rotating = new SecretBox(newKey, [oldKey]);
    let raced = false;
    const seal = rotating.seal.bind(rotating);
    rotating.seal = (plaintext, context) => {
      if (!raced && context === 'CRM') {
        raced = true;
        db.prepare('UPDATE token_configs SET secret_sealed = ? WHERE name = ?').run(
          oldBox.seal(secretOf('CRM', 3), 'CRM'),
          'CRM',
        );
      }
      return seal(plaintext, context);
    };
    expect(await resealColumn(dataSource.manager, configs, rotating)).toEqual({
      resealed: 2,
      current: 0,
    });
    expect(box.open(await stored('CRM'), 'CRM')).toBe(secretOf('CRM', 3));
  });
});
