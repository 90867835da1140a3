import { NotFoundException } from '@nestjs/common';
import type { Actor, AuditRecord, AuditService } from '../audit/audit.service';
import type { Clock } from '../common/clock';
import type { TokenConfigEntity } from './entities/token-config.entity';
import type { RevocationStore } from './revocation.store';
import type { TokenConfigStore } from './token-config.store';
import { TokenRevocationService } from './token-revocation.service';
import { TokenRejectedError, type TokenVerifier } from './token-verifier.service';
import type { TokenModuleOptions } from './token.module-definition';

const NOW = 1_800_000_000;
const ADMIN: Actor = { username: 'admin' };

/** The service over in-memory fakes: configuration ERP exists; `verify` is the test's. */
function service(options: Partial<TokenModuleOptions> = {}, verify?: TokenVerifier['verify']) {
  const state = {
    tokens: [] as { jti: string; expiresAt: number }[],
    cutoffs: [] as { name: string; before: number }[],
    audited: [] as AuditRecord[],
    announced: 0,
  };
  const configs = {
    find: async (name: string) => (name === 'ERP' ? ({ name } as TokenConfigEntity) : null),
  } as unknown as TokenConfigStore;
  const revocations = {
    revokeToken: async (jti: string, expiresAt: number) =>
      void state.tokens.push({ jti, expiresAt }),
    revokeIssuedBefore: async (name: string, before: number) =>
      void state.cutoffs.push({ name, before }),
    changed: async () => void state.announced++,
  } as unknown as RevocationStore;
  const audit = {
    recordChange: async <T>(
      change: (manager: never) => Promise<T>,
      events: (result: T) => AuditRecord[],
    ) => {
      const result = await change(undefined as never);
      state.audited.push(...events(result));
      return result;
    },
  } as unknown as AuditService;
  const verifier = { verify } as unknown as TokenVerifier;
  const clock: Clock = { now: () => NOW * 1000 + 400 };
  const revocation = new TokenRevocationService(
    configs,
    revocations,
    audit,
    verifier,
    clock,
    options as TokenModuleOptions,
  );
  return { revocation, state };
}

describe('TokenRevocationService', () => {
  it('keeps a jti revocation as long as a token can live: maxExpire and the clock leeway', async () => {
    const { revocation, state } = service({ maxExpire: 3600, clockLeeway: 5 });
    await revocation.revoke({ jti: 'j-1' }, ADMIN);
    expect(state.tokens).toEqual([{ jti: 'j-1', expiresAt: (NOW + 3605) * 1000 }]);
    expect(state.audited).toEqual([
      { actor: ADMIN, action: 'token.revoke', target: 'j-1', details: { kind: 'jti' } },
    ]);
    expect(state.announced).toBe(1);
  });

  it('takes the documented defaults when the options leave them out', async () => {
    const { revocation, state } = service();
    await revocation.revoke({ jti: 'j-1' }, ADMIN);
    expect(state.tokens[0].expiresAt).toBe((NOW + 2592000 + 30) * 1000);
  });

  it('cuts a configuration off after the current second by default, or before the given one', async () => {
    const { revocation, state } = service();
    await revocation.revoke({ name: 'ERP' }, ADMIN);
    await revocation.revoke({ name: 'ERP', before: NOW - 60 }, ADMIN);
    expect(state.cutoffs).toEqual([
      { name: 'ERP', before: NOW + 1 },
      { name: 'ERP', before: NOW - 60 },
    ]);
  });

  it('answers 404 for a configuration that does not exist, and revokes nothing', async () => {
    const { revocation, state } = service();
    await expect(revocation.revoke({ name: 'CRM' }, ADMIN)).rejects.toThrow(
      new NotFoundException('token configuration CRM does not exist'),
    );
    expect(state).toMatchObject({ cutoffs: [], audited: [], announced: 0 });
  });

  it('introspects a refused token as inactive with its reason, and lets other errors through', async () => {
    const refused = service({}, async () => {
      throw new TokenRejectedError('revoked');
    });
    await expect(refused.revocation.introspect('t')).resolves.toEqual({
      success: true,
      active: false,
      reason: 'revoked',
    });
    const failing = service({}, async () => {
      throw new Error('database down');
    });
    await expect(failing.revocation.introspect('t')).rejects.toThrow('database down');
  });
});
