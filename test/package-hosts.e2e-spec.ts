import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { TOKEN_API } from './support/api-paths';
import { createPostgresDatabase, REQUIRED_POSTGRES_URL } from './support/database';
import { verifyHmacToken } from './support/jwt';
import { freePort, sleep } from './support/service-process';

/**
 * The package as a host installs it: `npm pack`, then two host apps (Fastify, Express) on another
 * 12.x patch of Nest, each with its own PostgreSQL data source and API-key authentication, built
 * with strict TypeScript from the embedding code of docs/embedding.md, then started as real processes.
 */
const ROOT = resolve(process.cwd());
const HOST_NEST = '12.4.2';
const HOST_PLATFORMS = {
  fastify: { package: '@nestjs/platform-fastify', version: '12.3.2', adapter: 'FastifyAdapter' },
  express: { package: '@nestjs/platform-express', version: HOST_NEST, adapter: 'ExpressAdapter' },
} as const;
type HostKind = keyof typeof HOST_PLATFORMS;
const SECRET = 'package-hosts-secret-0123456789abcdef';
const INSTALL_TIMEOUT_MS = 8 * 60_000;

interface Run {
  stdout: string;
  ms: number;
}

/** Runs a command to its end; fails with its output when it fails or outlives `timeoutMs`. */
function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs = INSTALL_TIMEOUT_MS,
): Promise<Run> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, npm_config_fund: 'false' } });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk), (output += chunk)));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done({ stdout, ms: Date.now() - started });
      else
        fail(
          new Error(
            `${command} ${args.join(' ')} in ${cwd}: ${code ?? signal}\n${output.slice(-4000)}`,
          ),
        );
    });
  });
}

/** The embedding guide's code blocks, each named by its first line (`// src/app.module.ts`). */
function embeddingHostFiles(): Map<string, string> {
  const section = readFileSync(join(ROOT, 'docs/embedding.md'), 'utf8');
  const files = new Map<string, string>();
  for (const [, code] of section.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const name = /^\/\/ (src\/[\w.-]+\.ts)\n/.exec(code)?.[1];
    if (!name)
      throw new Error(
        `an embedding block of docs/embedding.md does not start with its file name:\n${code}`,
      );
    files.set(name, code);
  }
  return files;
}

/** The host's own pieces that docs/embedding.md leaves to it: its authentication and its main. */
function hostOwnFiles(kind: HostKind): Record<string, string> {
  const { package: platform, adapter } = HOST_PLATFORMS[kind];
  return {
    'src/api-key.guard.ts': `import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';

export interface MyUser {
  login: string;
  isBiAdmin: boolean;
}

const KEYS: Record<string, MyUser> = {
  'admin-key': { login: 'boss', isBiAdmin: true },
  'clerk-key': { login: 'clerk', isBiAdmin: false },
};

@Injectable()
export class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown>; user?: MyUser }>();
    const key = request.headers['x-api-key'];
    if (typeof key === 'string' && KEYS[key]) request.user = KEYS[key];
    return true;
  }
}
`,
    'src/main.ts': `import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ${adapter} } from '${platform}';
import { HostAppModule } from './app.module';

async function main(): Promise<void> {
  const app = await NestFactory.create(HostAppModule, new ${adapter}(), { logger: ['error', 'warn'] });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.stdout.write(\`ready in \${Math.round(performance.now())} ms\\n\`);
}
void main();
`,
    'tsconfig.json': JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'ES2023',
        lib: ['ES2023'],
        types: ['node'],
        strict: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        skipLibCheck: true,
        outDir: 'dist',
        rootDir: 'src',
      },
      include: ['src'],
    }),
  };
}

interface Host {
  kind: HostKind;
  dir: string;
  origin: string;
  installMs: number;
  bootMs: number;
  stop: () => void;
  exited: Promise<void>;
  output: string[];
}

/** Creates the host with its own Nest, installs the tarball into it, builds it and starts it. */
async function startHost(
  kind: HostKind,
  tarball: string,
  workDir: string,
  databaseUrl: string,
): Promise<Host> {
  const dir = join(workDir, `host-${kind}`);
  const platform = HOST_PLATFORMS[kind];
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: `datafor-host-${kind}`,
      private: true,
      dependencies: {
        '@nestjs/common': HOST_NEST,
        '@nestjs/core': HOST_NEST,
        [platform.package]: platform.version,
        '@nestjs/typeorm': '12.0.2',
        typeorm: '1.1.1',
        pg: '8.23.1',
        'reflect-metadata': '0.2.2',
        rxjs: '7.8.2',
      },
      devDependencies: { typescript: '6.0.3', '@types/node': '20.19.43' },
    }),
  );
  const npm = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
  await run('npm', ['install', ...npm], dir);
  const installed = await run('npm', ['install', ...npm, tarball], dir);
  const sources = [...embeddingHostFiles(), ...Object.entries(hostOwnFiles(kind))];
  for (const [name, text] of sources) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  await run(join(dir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], dir, 120_000);

  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: dir,
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      DATAFOR_SECRETS_KEY: randomBytes(32).toString('base64'),
    },
  });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  const deadline = Date.now() + 60_000;
  while (!/ready in \d+ ms/.test(output.join(''))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the ${kind} host did not start:\n${output.join('').slice(-4000)}`);
    }
    await sleep(100);
  }
  return {
    kind,
    dir,
    origin: `http://127.0.0.1:${port}`,
    installMs: installed.ms,
    bootMs: Number(/ready in (\d+) ms/.exec(output.join(''))![1]),
    stop: () => child.kill('SIGTERM'),
    exited,
    output,
  };
}

describe('the packed tarball installed into host apps on Fastify and Express', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'datafor-hosts-'));
  const hosts = new Map<HostKind, Host>();
  const databases: { drop: () => Promise<void> }[] = [];
  const databaseUrls = new Map<HostKind, string>();
  let packed: { filename: string; size: number; entryCount: number };

  beforeAll(
    async () => {
      // prepack builds dist, as it would on a clean clone.
      const pack = await run('npm', ['pack', '--json', '--pack-destination', workDir], ROOT);
      [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [typeof packed];
      const tarball = join(workDir, packed.filename);
      // Both hosts at once; each host that started is stopped in afterAll, even if the other failed.
      const outcomes = await Promise.allSettled(
        (Object.keys(HOST_PLATFORMS) as HostKind[]).map(async (kind) => {
          const database = await createPostgresDatabase(REQUIRED_POSTGRES_URL);
          databases.push(database);
          databaseUrls.set(kind, database.url);
          hosts.set(kind, await startHost(kind, tarball, workDir, database.url));
        }),
      );
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
      const started = [...hosts.values()];
      process.stdout.write(
        `package: ${packed.filename}, ${(packed.size / 1024).toFixed(1)} kB packed, ${packed.entryCount} files\n` +
          started
            .map(
              (host) =>
                `${host.kind} host (Nest ${HOST_NEST}): install ${(host.installMs / 1000).toFixed(1)} s, boot ${host.bootMs} ms\n`,
            )
            .join(''),
      );
    },
    2 * INSTALL_TIMEOUT_MS + 180_000,
  );

  afterAll(async () => {
    for (const host of hosts.values()) {
      host.stop();
      await host.exited;
    }
    await Promise.all(databases.map((database) => database.drop()));
    rmSync(workDir, { recursive: true, force: true });
  });

  it('runs hosts on another patch of Nest than the package was built with', () => {
    const own = JSON.parse(
      readFileSync(join(ROOT, 'node_modules/@nestjs/core/package.json'), 'utf8'),
    );
    expect(own.version).not.toBe(HOST_NEST);
  });

  describe.each(Object.keys(HOST_PLATFORMS) as HostKind[])('the %s host', (kind) => {
    const host = () => hosts.get(kind)!;
    const call = (
      path: string,
      init: { key?: string; body?: string; headers?: Record<string, string> } = {},
    ) =>
      fetch(`${host().origin}${path}`, {
        method: init.body === undefined ? 'GET' : 'POST',
        body: init.body,
        headers: {
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(init.key ? { 'x-api-key': init.key } : {}),
          ...init.headers,
        },
      });
    const mint = async (username: string) => {
      const response = await call(`${TOKEN_API}/generate`, {
        key: 'admin-key',
        body: JSON.stringify({ name: 'ERP', privateKey: SECRET, payload: { username } }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { token: string }).token;
    };

    it('lets its admin create a configuration and mint a token', async () => {
      const saved = await call(`${TOKEN_API}/update`, {
        key: 'admin-key',
        body: JSON.stringify({ name: 'ERP', secret: SECRET, enable: '1' }),
      });
      expect(saved.status).toBe(200);
      expect(await saved.json()).toMatchObject({ success: true });
      expect(verifyHmacToken(await mint('alice'), SECRET).claims).toMatchObject({ ERP: 'alice' });
    });

    it('answers 403 with the envelope to its non-admin', async () => {
      const response = await call(`${TOKEN_API}/generate`, {
        key: 'clerk-key',
        body: JSON.stringify({ name: 'ERP', privateKey: SECRET, payload: { username: 'alice' } }),
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ success: false, code: '403' });
    });

    it("signs a token's user in on its own route, by Bearer header and by ?token=", async () => {
      const token = await mint('carol');
      for (const response of [
        await call('/reports', { headers: { authorization: `Bearer ${token}` } }),
        await call(`/reports?token=${token}`),
      ]) {
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ username: 'carol', roles: [] });
      }
      expect((await call('/reports')).status).toBe(401);
    });

    it('answers malformed JSON with the envelope', async () => {
      const response = await call(`${TOKEN_API}/generate`, { key: 'admin-key', body: '{"name":' });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        success: false,
        code: '400',
        msg: 'body is not valid JSON',
      });
    });

    it("has the library's tables in its database, and not the standalone login's sessions", async () => {
      const client = new pg.Client({ connectionString: databaseUrls.get(kind) });
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string; found: string | null }>(
          "SELECT name, to_regclass('public.' || name)::text AS found FROM unnest($1::text[]) AS name",
          [['token_configs', 'users', 'audit_events', 'sessions']],
        );
        expect(Object.fromEntries(rows.map((row) => [row.name, row.found !== null]))).toEqual({
          token_configs: true,
          users: true,
          audit_events: true,
          sessions: false,
        });
      } finally {
        await client.end();
      }
    });

    it('has one copy of @nestjs/core in its tree, its own', async () => {
      const { stdout } = await run(
        'npm',
        ['ls', '@nestjs/core', '--all', '--parseable'],
        host().dir,
        60_000,
      );
      const copies = [...new Set(stdout.trim().split('\n'))];
      expect(copies).toEqual([join(host().dir, 'node_modules/@nestjs/core')]);
      const version = JSON.parse(readFileSync(join(copies[0], 'package.json'), 'utf8')).version;
      expect(version).toBe(HOST_NEST);
    });
  });
});
