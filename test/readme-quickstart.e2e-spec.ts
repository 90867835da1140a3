import { spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type ServiceProcess,
  startServiceProcess,
  stopServiceProcess,
} from './support/service-process';

/** The bash block of the README that follows the `<!-- quickstart -->` marker, as written. */
function quickStart(): string {
  const readme = readFileSync(resolve(process.cwd(), 'README.md'), 'utf8');
  const block = /<!-- quickstart -->\s*```bash\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md has no bash block after <!-- quickstart -->');
  return block[1];
}

/** The JSON objects curl printed, in order (curl adds no newline, so they may share a line). */
function jsonObjects(output: string): Record<string, unknown>[] {
  const objects: Record<string, unknown>[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < output.length; i++) {
    const char = output[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"' && depth > 0) inString = true;
    else if (char === '{') {
      if (depth++ === 0) start = i;
    } else if (char === '}' && depth > 0 && --depth === 0) {
      objects.push(JSON.parse(output.slice(start, i + 1)) as Record<string, unknown>);
    }
  }
  return objects;
}

/** An HS256 JWT checked with node:crypto alone: the signature over header.payload, then the claims. */
function verifyHs256(token: string, secret: string): Record<string, unknown> {
  const [header, payload, signature] = token.split('.');
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new Error('the token does not verify with the shared secret');
  }
  expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({
    alg: 'HS256',
    typ: 'JWT',
    kid: 'ERP',
  });
  return JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
}

describe("the README's quick start, run as written against a started service", () => {
  let workdir: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    // A newcomer's folder: the service writes ./data (and the password file) where it starts.
    workdir = mkdtempSync(join(tmpdir(), 'datafor-quickstart-'));
    service = await startServiceProcess({ cwd: workdir });
  });

  afterAll(async () => {
    if (service) await stopServiceProcess(service);
    rmSync(workdir, { recursive: true, force: true });
  });

  it('registers the ERP, mints for alice in both shapes and signs her in with the token', () => {
    // Only the address differs from the README: the test service listens on a free port.
    const script = quickStart().replaceAll('http://localhost:3000', service.origin);
    const run = spawnSync(
      'bash',
      ['-euo', 'pipefail', '-c', `${script}\necho "QUICKSTART_SECRET=$SECRET"`],
      { cwd: workdir, encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const secret = /QUICKSTART_SECRET=(\S+)/.exec(run.stdout)?.[1] ?? '';
    expect(Buffer.from(secret, 'base64')).toHaveLength(32);
    // The first JWT printed is the `echo "$TOKEN"` line; the form mint's is inside its JSON answer.
    const token = /eyJ[\w-]+\.[\w-]+\.[\w-]+/.exec(run.stdout)?.[0] ?? '';
    const claims = verifyHs256(token, secret);
    expect(claims).toMatchObject({ ERP: 'alice', email: 'alice@example.com' });
    expect(claims.exp).toBe((claims.iat as number) + 86400);

    const [update, formMint, byQuery, byBearer, login, list] = jsonObjects(run.stdout);
    expect(update).toEqual({ success: true, msg: 'success' });
    expect(formMint).toMatchObject({ success: true, expire: 86400 });
    expect(verifyHs256(formMint.token as string, secret)).toMatchObject({ ERP: 'alice' });
    for (const detail of [byQuery, byBearer]) {
      expect(detail).toMatchObject({
        success: true,
        data: { user: { username: 'alice', usertype: 'SYS_Creator' } },
      });
    }
    expect(login).toMatchObject({ success: true });
    expect(list).toMatchObject({ success: true });
    expect(JSON.stringify(list)).toContain('"ERP"');
    expect(JSON.stringify(list)).not.toContain(secret);
  });
});
