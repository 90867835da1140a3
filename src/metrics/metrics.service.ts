import { HttpException } from '@nestjs/common';
import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, type LabelValues, Registry } from 'prom-client';
import { RequestHistogram } from './request-histogram';

/** The caches that count their lookups: the hit ratio is 1 - misses / lookups. */
const CACHE_NAMES = ['credentials', 'configurations', 'users', 'revocations'] as const;
const SIGN_IN_METHODS = ['basic', 'session'] as const;
const SIGN_IN_OUTCOMES = ['success', 'failure', 'throttled'] as const;
export type CacheName = (typeof CACHE_NAMES)[number];
const CACHE_LABELS = Object.fromEntries(CACHE_NAMES.map((cache) => [cache, { cache }])) as Record<
  CacheName,
  { cache: CacheName }
>;

export type SignInMethod = (typeof SIGN_IN_METHODS)[number];
export type SignInOutcome = (typeof SIGN_IN_OUTCOMES)[number];

/** What a pg Pool tells about itself (read at scrape time). */
export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** A key version that verifies tokens now: the only kids the metrics name. */
export interface LiveKeyVersion {
  configuration: string;
  kid: string;
}

/** Stands for every configuration name that no administrator created (a label never holds those). */
export const UNKNOWN_CONFIGURATION = '(unknown)';
/** The route label of requests that matched no route: their URL is the caller's choice. */
export const UNMATCHED_ROUTE = '(unmatched)';

type RequestObserver = (method: string, status: number, elapsedMs: number) => void;

/**
 * A counter bumped on every request: counted here in plain numbers, by a key that names its label
 * set, and handed to prom-client at each scrape (a labelled inc hashes its labels on every call).
 */
class HotCounter<L extends string> {
  private readonly pending = new Map<string, { labels: LabelValues<L>; count: number }>();
  private readonly counter: Counter<L>;

  constructor(options: {
    name: string;
    help: string;
    labelNames: readonly L[];
    registry: Registry;
  }) {
    this.counter = new Counter({
      name: options.name,
      help: options.help,
      labelNames: options.labelNames,
      registers: [options.registry],
      collect: () => this.flush(),
    });
  }

  /** @param key stands for `labels`, one key per label set */
  inc(key: string, labels: LabelValues<L>): void {
    const entry = this.pending.get(key);
    if (entry) entry.count += 1;
    else this.pending.set(key, { labels, count: 1 });
  }

  /** Makes the series exist at 0, so that rate() sees its first event. */
  zero(labels: LabelValues<L>): void {
    this.counter.inc(labels, 0);
  }

  private flush(): void {
    for (const entry of this.pending.values()) {
      if (entry.count > 0) this.counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}

/** A mint's outcome as its caller saw it: the status of the error envelope, by name. */
function mintOutcome(error: unknown): string {
  const status = error instanceof HttpException ? error.getStatus() : 500;
  switch (status) {
    case 400:
      return 'bad_request';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    default:
      return 'error';
  }
}

/**
 * This app's Prometheus registry and instruments (one registry per app, never prom-client's global
 * one, so that several apps in a process keep apart). Labels hold only bounded values the service
 * chose: configuration names admins created, outcomes, reasons, route patterns; never a username,
 * a token, a secret or a client address.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly mints = new HotCounter({
    name: 'datafor_mints_total',
    help: 'Token mints (POST generate) by configuration and outcome',
    labelNames: ['configuration', 'outcome'] as const,
    registry: this.registry,
  });

  private readonly tokenSignIns = new HotCounter({
    name: 'datafor_token_sign_ins_total',
    help: 'Requests that presented a token, by outcome and rejection reason',
    labelNames: ['outcome', 'reason'] as const,
    registry: this.registry,
  });

  private readonly passwordSignIns = new HotCounter({
    name: 'datafor_password_sign_ins_total',
    help: 'Sign-ins with a username and password (HTTP Basic or session login) by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registry: this.registry,
  });

  private readonly cacheLookups = new HotCounter({
    name: 'datafor_cache_lookups_total',
    help: 'Lookups in an in-memory cache',
    labelNames: ['cache'] as const,
    registry: this.registry,
  });

  private readonly cacheMisses = new HotCounter({
    name: 'datafor_cache_misses_total',
    help: 'Lookups that the cache could not answer (the store was read)',
    labelNames: ['cache'] as const,
    registry: this.registry,
  });

  private readonly requestDuration = new RequestHistogram<'route' | 'method' | 'code'>(
    'datafor_http_request_duration_seconds',
    'Time from request to answer, by route pattern, method and status code',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    this.registry,
  );

  private readonly keyChanges = new HotCounter({
    name: 'datafor_token_key_changes_total',
    help: 'Key rotations and retirements (token/rotate, token/retire) by configuration',
    labelNames: ['configuration', 'change'] as const,
    registry: this.registry,
  });

  /** Tokens verified per key version, by kid: only live versions are reported (see watchKeyVersions). */
  private readonly keyUses = new Map<string, { configuration: string; count: number }>();
  private liveKeyVersions?: () => readonly LiveKeyVersion[] | undefined;

  private readonly keyUseCounter: Counter<'configuration' | 'kid'> = new Counter({
    name: 'datafor_token_key_verifications_total',
    help:
      'Tokens verified, by configuration and key version (kid). Only live versions have a series: a ' +
      'retired one leaves, so the labels stay bounded. A previous version flat at 0 can be retired',
    labelNames: ['configuration', 'kid'] as const,
    registers: [this.registry],
    collect: () => this.collectKeyUses(),
  });

  private readonly auditPruned = new Counter({
    name: 'datafor_audit_rows_pruned_total',
    help: 'Audit rows deleted because they were older than the retention (AUDIT_RETENTION_DAYS)',
    registers: [this.registry],
  });

  /** When the oldest audit row was recorded (epoch ms), as last read; undefined: no row. */
  private oldestAuditAt?: number;

  private readonly oldestAuditAge: Gauge = new Gauge({
    name: 'datafor_audit_oldest_row_age_seconds',
    help: 'Age of the oldest audit row, as read after the last prune pass (0: no row)',
    registers: [this.registry],
    collect: () => {
      const at = this.oldestAuditAt;
      this.oldestAuditAge.set(at === undefined ? 0 : Math.max(0, (Date.now() - at) / 1000));
    },
  });

  constructor() {
    this.auditPruned.inc(0);
    collectDefaultMetrics({ register: this.registry });
    // Series whose labels are known in advance start at 0, so that rate() sees their first event.
    for (const method of SIGN_IN_METHODS)
      for (const outcome of SIGN_IN_OUTCOMES) this.passwordSignIns.zero({ method, outcome });
    this.tokenSignIns.zero({ outcome: 'success' });
    for (const cache of CACHE_NAMES) {
      this.cacheLookups.zero({ cache });
      this.cacheMisses.zero({ cache });
    }
  }

  /** Awaits a mint and counts its outcome; the configuration is named only if it exists. */
  async countMint<T>(configuration: string, minting: Promise<T>): Promise<T> {
    try {
      const minted = await minting;
      this.mints.inc(`${configuration}\u0000success`, { configuration, outcome: 'success' });
      return minted;
    } catch (error) {
      const outcome = mintOutcome(error);
      // 400, 403 and 409 come after the configuration was found; a 404 may mean it does not exist,
      // and an error may strike before the lookup: the name then is the caller's, not an admin's.
      const known = outcome !== 'not_found' && outcome !== 'error';
      const label = known ? configuration : UNKNOWN_CONFIGURATION;
      this.mints.inc(`${label}\u0000${outcome}`, { configuration: label, outcome });
      throw error;
    }
  }

  keyChange(configuration: string, change: 'rotate' | 'retire'): void {
    this.keyChanges.inc(`${configuration}\u0000${change}`, { configuration, change });
  }

  /** A token verified by the key version `kid` of `configuration`. */
  keyUse(configuration: string, kid: string): void {
    const entry = this.keyUses.get(kid);
    if (entry) entry.count += 1;
    else this.keyUses.set(kid, { configuration, count: 1 });
  }

  /**
   * Where the scrape learns which key versions are live (TokenKeyService tells it, from what the
   * instance has loaded: a scrape never waits for the database). Undefined: not known now.
   */
  watchKeyVersions(live: () => readonly LiveKeyVersion[] | undefined): void {
    this.liveKeyVersions = live;
  }

  /** Each live version's total (0 before its first use); the counts of the others are dropped. */
  private collectKeyUses(): void {
    const live = this.liveKeyVersions?.();
    if (!live) return; // not known at this scrape: the last series stay
    const kids = new Set(live.map((version) => version.kid));
    for (const kid of this.keyUses.keys()) if (!kids.has(kid)) this.keyUses.delete(kid);
    this.keyUseCounter.reset();
    for (const { configuration, kid } of live)
      this.keyUseCounter.inc({ configuration, kid }, this.keyUses.get(kid)?.count ?? 0);
  }

  /** Counts the rows one prune batch deleted. */
  auditRowsPruned(count: number): void {
    this.auditPruned.inc(count);
  }

  /** The oldest audit row's time (epoch ms), read after a prune pass; undefined when there is none. */
  oldestAuditRow(at: number | undefined): void {
    this.oldestAuditAt = at;
  }

  /** @param reason why the token was refused; undefined when it signed the caller in */
  tokenSignIn(reason?: string): void {
    if (reason === undefined) this.tokenSignIns.inc('', { outcome: 'success' });
    else this.tokenSignIns.inc(reason, { outcome: 'rejected', reason });
  }

  passwordSignIn(method: SignInMethod, outcome: SignInOutcome): void {
    this.passwordSignIns.inc(`${method} ${outcome}`, { method, outcome });
  }

  cacheLookup(cache: CacheName): void {
    this.cacheLookups.inc(cache, CACHE_LABELS[cache]);
  }

  cacheMiss(cache: CacheName): void {
    this.cacheMisses.inc(cache, CACHE_LABELS[cache]);
  }

  /**
   * Observes the requests of one route pattern. Called once per route at start-up; the per-request
   * work is two map lookups and the observation.
   */
  requestObserver(route: string): RequestObserver {
    const byMethod = new Map<string, Map<number, (seconds: number) => void>>();
    return (method, status, elapsedMs) => {
      let byStatus = byMethod.get(method);
      if (!byStatus) byMethod.set(method, (byStatus = new Map()));
      let observe = byStatus.get(status);
      if (!observe) {
        observe = this.requestDuration.series({ route, method, code: status });
        byStatus.set(status, observe);
      }
      observe(elapsedMs / 1000);
    };
  }

  /** PostgreSQL's connection pool, read at each scrape. */
  watchPool(pool: PoolStats, max: number): void {
    new Gauge({
      name: 'datafor_db_pool_connections',
      help: 'Open database connections: in use (active) or idle',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.set({ state: 'active' }, pool.totalCount - pool.idleCount);
        this.set({ state: 'idle' }, pool.idleCount);
      },
    });
    new Gauge({
      name: 'datafor_db_pool_waiting_requests',
      help: 'Queries waiting for a free database connection',
      registers: [this.registry],
      collect() {
        this.set(pool.waitingCount);
      },
    });
    new Gauge({
      name: 'datafor_db_pool_max_connections',
      help: 'The most database connections the pool opens (DB_POOL_MAX)',
      registers: [this.registry],
    }).set(max);
  }

  /** Redis's circuit breaker (REDIS_URL set), read at each scrape. */
  watchRedis(redis: { available: boolean; outages: number }): void {
    new Gauge({
      name: 'datafor_redis_available',
      help: '1 while Redis answers; 0 while rate limits and sign-in failure counts fall back to process memory',
      registers: [this.registry],
      collect() {
        this.set(redis.available ? 1 : 0);
      },
    });
    new Counter({
      name: 'datafor_redis_outages_total',
      help: 'Times Redis stopped answering and the counts fell back to process memory',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(redis.outages);
      },
    });
  }

  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
