import type { Repository } from 'typeorm';
import type { Clock } from '../common/clock';
import type { MetricsService } from '../metrics/metrics.service';
import type { RevokedTokenEntity } from './entities/revoked-token.entity';
import type { TokenCutoffEntity } from './entities/token-cutoff.entity';
import { RevocationStore } from './revocation.store';

/** A store over in-memory tables, on a clock far from the real one. */
function storeAt(start: number) {
  const clock: Clock & { time: number } = { time: start, now: () => clock.time };
  const tables = {
    revoked: [] as RevokedTokenEntity[],
    cutoffs: [] as TokenCutoffEntity[],
    reads: 0,
    deletes: [] as unknown[],
  };
  const revoked = {
    find: async () => {
      tables.reads++;
      return tables.revoked;
    },
    delete: async (where: unknown) => void tables.deletes.push(where),
  } as unknown as Repository<RevokedTokenEntity>;
  const cutoffs = { find: async () => tables.cutoffs } as unknown as Repository<TokenCutoffEntity>;
  const metrics = { cacheLookup: () => {}, cacheMiss: () => {} } as unknown as MetricsService;
  return { store: new RevocationStore(revoked, cutoffs, clock, metrics), clock, tables };
}

describe('RevocationStore', () => {
  it('keeps its snapshot for 2 s of the injected clock, then reads the tables again', async () => {
    const { store, clock, tables } = storeAt(1_000_000);
    expect(await store.check('ERP', { jti: 'a', iat: 1 })).toBeUndefined();
    tables.revoked.push({ jti: 'a', expiresAt: clock.time + 60_000 });
    clock.time += 1999;
    expect(await store.check('ERP', { jti: 'a', iat: 1 })).toBeUndefined();
    expect(tables.reads).toBe(1);
    clock.time += 2;
    expect(await store.check('ERP', { jti: 'a', iat: 1 })).toBe('jti');
    expect(tables.reads).toBe(2);
  });

  it('prunes by the injected clock, at most once a minute of it', async () => {
    const { store, clock, tables } = storeAt(5_000_000);
    await store.check('ERP', {});
    clock.time += 30_000;
    await store.check('ERP', {});
    expect(tables.deletes).toHaveLength(1);
    clock.time += 30_000;
    await store.check('ERP', {});
    expect(tables.deletes).toHaveLength(2);
  });
});
