import { spawnSync } from 'node:child_process';
import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type ServiceProcess,
  startServiceProcess,
  stopServiceProcess,
} from './support/service-process';

/** The bash block of the README that follows the `<!-- marker -->` marker, as written. */
function readmeBlock(marker: string): string {
  const readme = readFileSync(resolve(process.cwd(), 'README.md'), 'utf8');
  const block = new RegExp(`<!-- ${marker} -->\\s*\`\`\`bash\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!block) throw new Error(`README.md has no bash block after <!-- ${marker} -->`);
  return block[1];
}

const quickStart = () => readmeBlock('quickstart');

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

  it('rotates and retires the ERP secret, and makes and rotates a service-held key, as the runbook says', () => {
    const script = readmeBlock('key-rotation').replaceAll('http://localhost:3000', service.origin);
    const run = spawnSync(
      'bash',
      ['-euo', 'pipefail', '-c', `${script}\necho "RUNBOOK=$NEW_SECRET $CREDENTIAL"`],
      { cwd: workdir, encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const [newSecret, credential] = /RUNBOOK=(\S+) (\S+)/.exec(run.stdout)?.slice(1) ?? [];

    const [rotated, retired, saved, jwks, next] = jsonObjects(run.stdout);
    expect(rotated).toEqual({
      success: true,
      kid: expect.stringMatching(/^ERP\./),
      signsFrom: expect.any(Number),
      previous: { kid: 'ERP', retires: (rotated.signsFrom as number) + 3600 },
    });
    expect(retired).toEqual({ success: true, retired: ['ERP'] });
    expect(saved).toEqual({ success: true, msg: 'success' });
    const [key] = (jwks as { keys: Record<string, string>[] }).keys;
    expect(key).toMatchObject({
      kty: 'RSA',
      alg: 'RS256',
      use: 'sig',
      kid: expect.stringMatching(/^BI\./),
    });
    expect(next).toMatchObject({ success: true, previous: { kid: key.kid } });
    expect((next.signsFrom as number) - Math.floor(Date.now() / 1000)).toBeGreaterThan(250);
    // No answer repeats a secret (the last line is the test's own echo).
    const answers = run.stdout.slice(0, run.stdout.indexOf('RUNBOOK='));
    expect(answers).not.toContain(newSecret);
    expect(answers).not.toContain(credential);

    // The ERP now mints with the new secret only; BI's tokens verify with the published key.
    const mint = (name: string, privateKey: string) =>
      spawnSync(
        'curl',
        [
          '-s',
          '-u',
          `admin:${readFileSync(join(workdir, 'data/admin-password.txt'), 'utf8').trim()}`,
          '-H',
          'content-type: application/json',
          `${service.origin}/plugin/datafor-modeler/api/token/generate`,
          '-d',
          JSON.stringify({ name, privateKey, payload: { username: 'alice' } }),
        ],
        { encoding: 'utf8' },
      ).stdout;
    const erp = JSON.parse(mint('ERP', newSecret)) as { token: string };
    const [head] = erp.token.split('.');
    expect(JSON.parse(Buffer.from(head, 'base64url').toString()).kid).toBe(rotated.kid);
    const bi = JSON.parse(mint('BI', credential)) as { token: string };
    const [biHead, biBody, biSignature] = bi.token.split('.');
    expect(
      verify(
        'sha256',
        Buffer.from(`${biHead}.${biBody}`),
        createPublicKey({ key, format: 'jwk' }),
        Buffer.from(biSignature, 'base64url'),
      ),
    ).toBe(true);
  });
});
