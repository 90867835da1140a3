import { createHmac } from 'node:crypto';
import { jest } from '@jest/globals';
import { JwtService } from '@nestjs/jwt';
import type { Clock } from '../common/clock';
import { MetricsService } from '../metrics/metrics.service';
import type { TokenConfigEntity } from './entities/token-config.entity';
import type { RevocationStore } from './revocation.store';
import type { ResolvedTokenConfig, TokenConfigStore } from './token-config.store';
import { TokenHeaderCache } from './token-header-cache';
import { keyFor } from './token-keys';
import { TokenRejectedError, TokenVerifier } from './token-verifier.service';
import type { TokenModuleOptions } from './token.module-definition';
import { VerifiedTokenCache } from './verified-token-cache';

const SECRET = 'a-secret-of-the-erp-that-is-long-enough';
const NOW = 1_800_000_000;

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An HS256 token made with node:crypto alone, not with the code under test. */
function hs256(claims: object, secret = SECRET, kid = 'ERP'): string {
  const signed = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(claims)}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

function resolvedConfig(secret = SECRET): ResolvedTokenConfig {
  const config = {
    name: 'ERP',
    enabled: true,
    algorithm: 'HS256',
    fieldmap: { username: 'ERP' },
    tokenName: 'token',
  } as unknown as TokenConfigEntity;
  return {
    config,
    secret,
    versions: [{ kid: 'ERP', verifyKey: keyFor(secret, 'HS256'), secret, created: 0, signsFrom: 0 }],
  };
}

function verifier() {
  const state = { resolved: resolvedConfig(), now: NOW * 1000, revoked: new Set<string>() };
  const configs = {
    resolve: async (name: string) => (name === 'ERP' ? state.resolved : undefined),
    resolveEnabled: async () => [state.resolved],
  } as unknown as TokenConfigStore;
  const revocations = {
    check: async (_name: string, claims: { jti?: unknown }) =>
      typeof claims.jti === 'string' && state.revoked.has(claims.jti) ? 'jti' : undefined,
  } as unknown as RevocationStore;
  const jwt = new JwtService({});
  const jwtVerify = jest.spyOn(jwt, 'verify');
  const clock: Clock = { now: () => state.now };
  const options = { clockLeeway: 30 } as TokenModuleOptions;
  const tokens = new TokenVerifier(
    configs,
    revocations,
    jwt,
    clock,
    options,
    new VerifiedTokenCache(),
    new TokenHeaderCache(),
    new MetricsService(),
  );
  return { tokens, state, jwtVerify };
}

const claims = (extra: object = {}) => ({
  ERP: 'alice',
  iat: NOW - 10,
  exp: NOW + 3600,
  jti: 'j-1',
  ...extra,
});

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenRejectedError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('TokenVerifier with tokens verified lately', () => {
  it('checks a signature once, then answers the same user and claims from the cache', async () => {
    const { tokens, jwtVerify } = verifier();
    const token = hs256(claims());
    const first = await tokens.verify(token);
    const second = await tokens.verify(token);
    expect(jwtVerify).toHaveBeenCalledTimes(1);
    expect(second.username).toBe('alice');
    expect(second.claims).toEqual(first.claims);
    expect(Object.isFrozen(second.claims)).toBe(true);
  });

  it('still checks revocations on every use', async () => {
    const { tokens, state } = verifier();
    const token = hs256(claims());
    expect(await reason(tokens.verify(token))).toBe('accepted');
    state.revoked.add('j-1');
    expect(await reason(tokens.verify(token))).toBe('revoked');
  });

  it('refuses a cached token once it has expired, past the leeway', async () => {
    const { tokens, state } = verifier();
    const token = hs256(claims({ exp: NOW + 60 }));
    expect(await reason(tokens.verify(token))).toBe('accepted');
    state.now = (NOW + 60 + 29) * 1000;
    expect(await reason(tokens.verify(token))).toBe('accepted');
    state.now = (NOW + 60 + 30) * 1000;
    expect(await reason(tokens.verify(token))).toBe('expired');
  });

  it('checks the time rules again when the clock goes back', async () => {
    const { tokens, state } = verifier();
    const token = hs256(claims({ nbf: NOW - 5 }));
    expect(await reason(tokens.verify(token))).toBe('accepted');
    state.now = (NOW - 100) * 1000;
    expect(await reason(tokens.verify(token))).toBe('not yet valid');
  });

  it('verifies again when the configuration changed: a token of the old secret is refused', async () => {
    const { tokens, state, jwtVerify } = verifier();
    const token = hs256(claims());
    expect(await reason(tokens.verify(token))).toBe('accepted');
    state.resolved = resolvedConfig('the-new-secret-after-a-rotation-long');
    expect(await reason(tokens.verify(token))).toBe('bad signature');
    expect(jwtVerify).toHaveBeenCalledTimes(2);
  });

  it('never takes a tampered token for a cached one', async () => {
    const { tokens } = verifier();
    const token = hs256(claims());
    expect(await reason(tokens.verify(token))).toBe('accepted');
    const [header, , signature] = token.split('.');
    const forged = `${header}.${b64(claims({ ERP: 'root' }))}.${signature}`;
    expect(await reason(tokens.verify(forged))).toBe('bad signature');
  });

  it('caches no refusal: a token refused for its signature is refused every time', async () => {
    const { tokens, jwtVerify } = verifier();
    const token = hs256(claims(), 'not-the-secret-of-this-configuration');
    expect(await reason(tokens.verify(token))).toBe('bad signature');
    expect(await reason(tokens.verify(token))).toBe('bad signature');
    expect(jwtVerify).toHaveBeenCalledTimes(2);
  });
});
