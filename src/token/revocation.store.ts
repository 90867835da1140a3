import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, LessThan, MoreThanOrEqual, Repository } from 'typeorm';
import { type ChangeBus, CHANGE_BUS } from '../changes/change-bus';
import { type Clock, CLOCK } from '../common/clock';
import { MetricsService } from '../metrics/metrics.service';
import { RevokedTokenEntity } from './entities/revoked-token.entity';
import { TokenCutoffEntity } from './entities/token-cutoff.entity';

export type Revocation = 'jti' | 'cutoff';

interface Snapshot {
  jtis: Set<string>;
  cutoffs: Map<string, number>;
  until: number;
}

/** A safety net: revocations made by another instance are announced (CHANGE_BUS), else seen within this time. */
const SNAPSHOT_TTL_MS = 2000;
/** How often a reload may also delete expired revocations (best effort, never in its way). */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Revoked token ids and per-configuration cut-offs. Checked on every token sign-in, so they are
 * read from an in-memory snapshot that this instance's own revocations replace at once.
 */
@Injectable()
export class RevocationStore {
  private readonly logger = new Logger(RevocationStore.name);
  private snapshot?: Promise<Snapshot>;
  private nextPrune = 0;

  constructor(
    @InjectRepository(RevokedTokenEntity) private readonly revoked: Repository<RevokedTokenEntity>,
    @InjectRepository(TokenCutoffEntity) private readonly cutoffs: Repository<TokenCutoffEntity>,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: MetricsService,
    @Optional() @Inject(CHANGE_BUS) private readonly changes?: ChangeBus,
  ) {
    changes?.subscribe((change) => {
      if (change.kind === 'revocations' || change.kind === 'reset') this.snapshot = undefined;
    });
  }

  /** Why a token of `configName` with these claims is revoked, or undefined if it is not. */
  async check(
    configName: string,
    claims: { jti?: unknown; iat?: unknown },
  ): Promise<Revocation | undefined> {
    const { jtis, cutoffs } = await this.current();
    if (typeof claims.jti === 'string' && jtis.has(claims.jti)) return 'jti';
    const cutoff = cutoffs.get(configName);
    if (cutoff !== undefined && !(typeof claims.iat === 'number' && claims.iat >= cutoff))
      return 'cutoff';
    return undefined;
  }

  /** Revokes the token `jti`; the entry is kept until `expiresAt` (epoch milliseconds). */
  async revokeToken(
    jti: string,
    expiresAt: number,
    manager: EntityManager = this.revoked.manager,
  ): Promise<void> {
    await manager.upsert(RevokedTokenEntity, { jti, expiresAt }, ['jti']);
  }

  /** Revokes every token of `configName` issued before `issuedBefore` (epoch seconds). */
  async revokeIssuedBefore(
    configName: string,
    issuedBefore: number,
    manager: EntityManager = this.cutoffs.manager,
  ): Promise<void> {
    await manager.upsert(
      TokenCutoffEntity,
      { configName, issuedBefore, createdDate: this.clock.now() },
      ['configName'],
    );
  }

  /** Once a revocation is committed: drops the snapshot here and announces it to the other instances. */
  async changed(): Promise<void> {
    this.snapshot = undefined;
    await this.changes?.publish({ kind: 'revocations' });
  }

  private current(): Promise<Snapshot> {
    this.metrics.cacheLookup('revocations');
    const now = this.clock.now();
    const pending = this.snapshot;
    if (pending) {
      return pending.then((snapshot) => (snapshot.until > now ? snapshot : this.reload()));
    }
    return this.reload();
  }

  private reload(): Promise<Snapshot> {
    this.metrics.cacheMiss('revocations');
    const loading = (async () => {
      const now = this.clock.now();
      // Expired revocations are left out, not deleted first: a read never waits on a write, which
      // a full disk or a busy writer would fail.
      const [revoked, cutoffs] = await Promise.all([
        this.revoked.find({ select: { jti: true }, where: { expiresAt: MoreThanOrEqual(now) } }),
        this.cutoffs.find(),
      ]);
      this.pruneExpired(now);
      return {
        jtis: new Set(revoked.map((r) => r.jti)),
        cutoffs: new Map(cutoffs.map((c) => [c.configName, c.issuedBefore])),
        until: this.clock.now() + SNAPSHOT_TTL_MS,
      };
    })();
    this.snapshot = loading;
    loading.catch(() => {
      if (this.snapshot === loading) this.snapshot = undefined;
    });
    return loading;
  }

  /** Deletes expired revocations at most once a minute, in the background; a failure only logs. */
  private pruneExpired(now: number): void {
    if (now < this.nextPrune) return;
    this.nextPrune = now + PRUNE_INTERVAL_MS;
    this.revoked.delete({ expiresAt: LessThan(now) }).catch((error: Error) => {
      this.logger.warn(`expired revocations were not deleted (tried again later): ${error.message}`);
    });
  }
}
