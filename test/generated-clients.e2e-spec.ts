import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jwtVerify } from 'jose';
import ts from 'typescript';
import {
  type ServiceProcess,
  startServiceProcess,
  stopServiceProcess,
} from './support/service-process';

/**
 * Clients generated from the service's OpenAPI document, with the generators' default settings,
 * compile under `tsc --strict` without a cast and run the README's quick start: openapi-typescript
 * with openapi-fetch, and @hey-api/openapi-ts (its types only: its SDK's function names follow the
 * operation ids, which are not this test's subject). Nothing but the installed packages is used.
 */

const FIXTURES = resolve(process.cwd(), 'test/fixtures/generated-client');
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const SECRET = 'generated-client-secret-0123456789abcdefghijk';

interface QuickStartAnswers {
  updated: boolean;
  token: string;
  expire: number;
  formToken: string;
  listed: string[];
  postedBack: { status: number; success?: boolean };
  verified: { active: boolean; jti?: string };
  detailUser?: string;
  revoked: boolean;
  activeAfterRevoke: boolean;
  auditActions: string[];
  mintDetails: (Record<string, unknown> | null)[];
}

/** A fixture's code without its comments: what the no-cast rule reads. */
const codeOf = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [command, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('clients generated from the OpenAPI document', () => {
  let workdir: string;
  let service: ServiceProcess;
  const node_modules = resolve(process.cwd(), 'node_modules');
  const tsc = (...files: string[]) =>
    run(
      join(node_modules, 'typescript/bin/tsc'),
      // Strict, the generated declarations checked too (no skipLibCheck).
      [
        ...['--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext'],
        ...['--target', 'es2023', '--types', 'node'],
        ...files,
      ],
      workdir,
    );

  beforeAll(async () => {
    workdir = mkdtempSync(join(tmpdir(), 'datafor-clients-'));
    service = await startServiceProcess({ dataDir: join(workdir, 'data'), admin: ADMIN });
    // The document as a client fetches it; the generated code imports the installed packages.
    const document = await fetch(`${service.origin}/api-docs-json`);
    expect(document.status).toBe(200);
    writeFileSync(join(workdir, 'openapi.json'), await document.text());
    symlinkSync(node_modules, join(workdir, 'node_modules'), 'dir');
    writeFileSync(join(workdir, 'package.json'), '{"type":"module"}\n');
    for (const fixture of ['quickstart.ts', 'hey-api-types.ts', 'wrong-type.ts'])
      copyFileSync(join(FIXTURES, fixture), join(workdir, fixture));

    const openapiTypescript = run(
      join(node_modules, 'openapi-typescript/bin/cli.js'),
      ['openapi.json', '--output', 'schema.d.ts'],
      workdir,
    );
    expect(openapiTypescript).toMatchObject({ status: 0 });
    const heyApi = run(
      join(node_modules, '@hey-api/openapi-ts/bin/run.js'),
      ['--input', 'openapi.json', '--output', 'hey', '--plugins', '@hey-api/typescript'],
      workdir,
    );
    expect(heyApi).toMatchObject({ status: 0 });
  }, 60_000);

  afterAll(async () => {
    if (service) await stopServiceProcess(service);
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  it('holds no casts, no any and no ts- comments in its fixtures', () => {
    for (const fixture of ['quickstart.ts', 'hey-api-types.ts', 'wrong-type.ts']) {
      const text = readFileSync(join(FIXTURES, fixture), 'utf8');
      const code = codeOf(text);
      expect({ fixture, as: /\bas\b/.test(code), any: /\bany\b/.test(code) }).toEqual({
        fixture,
        as: false,
        any: false,
      });
      expect({ fixture, tsComment: /@ts-/.test(text) }).toEqual({ fixture, tsComment: false });
    }
  });

  it('compiles the quick start (openapi-fetch) and the hey-api types under --strict', () => {
    const compiled = tsc('quickstart.ts', 'hey-api-types.ts');
    expect(compiled).toEqual({ status: 0, output: '' });
  }, 30_000);

  it('fails to compile a wrong field type: the compile step does check', () => {
    const compiled = tsc('wrong-type.ts');
    expect(compiled.status).not.toBe(0);
    const errors = compiled.output.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors).toEqual([
      expect.stringMatching(/^wrong-type\.ts\(9,3\): error TS2322: .*string/),
    ]);
  }, 30_000);

  it('runs the quick start through openapi-fetch against the service', async () => {
    // Type-checked above; here only turned into JavaScript to run.
    const source = readFileSync(join(workdir, 'quickstart.ts'), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 },
    });
    writeFileSync(join(workdir, 'quickstart.js'), outputText);
    const { status, output } = run(
      'quickstart.js',
      [service.origin, ADMIN.username, ADMIN.password, SECRET],
      workdir,
    );
    expect({ status, output: status === 0 ? '' : output }).toEqual({ status: 0, output: '' });
    const answers = JSON.parse(output) as QuickStartAnswers;

    expect(answers.updated).toBe(true);
    // Verified independently of the service: jose, with the secret the ERP holds.
    const key = new TextEncoder().encode(SECRET);
    const { payload, protectedHeader } = await jwtVerify(answers.token, key, {
      algorithms: ['HS256'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'HS256', kid: 'ERP' });
    expect(payload).toMatchObject({ ERP: 'alice', roles: ['SYS_Creator'], plant: 'north' });
    expect(answers.expire).toBe(86400);
    expect((await jwtVerify(answers.formToken, key)).payload).toMatchObject({ ERP: 'alice' });

    expect(answers.listed).toEqual(['ERP']);
    // content's answer, posted back to update as it is.
    expect(answers.postedBack).toEqual({ status: 200, success: true });
    expect(answers.verified).toEqual({ active: true, jti: payload.jti });
    expect(answers.detailUser).toBe('alice');
    expect(answers.revoked).toBe(true);
    expect(answers.activeAfterRevoke).toBe(false);
    expect(answers.auditActions).toEqual(['token.mint', 'token.mint']);
    expect(answers.mintDetails).toContainEqual({
      username: 'alice',
      jti: payload.jti,
      userCreated: true,
    });
  }, 30_000);
});
