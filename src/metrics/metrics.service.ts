import { HttpException } from '@nestjs/common';
import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The caches that count their lookups: the hit ratio is 1 - misses / lookups. */
const CACHE_NAMES = ['credentials', 'configurations', 'users', 'revocations'] as const;
const SIGN_IN_METHODS = ['basic', 'session'] as const;
const SIGN_IN_OUTCOMES = ['success', 'failure', 'throttled'] as const;
export type CacheName = (typeof CACHE_NAMES)[number];

const pendingCounts = (): Record<CacheName, number> =>
  Object.fromEntries(CACHE_NAMES.map((cache) => [cache, 0])) as Record<CacheName, number>;

function flush(counter: Counter<'cache'>, pending: Record<CacheName, number>): void {
  for (const cache of CACHE_NAMES) {
    if (pending[cache] > 0) counter.inc({ cache }, pending[cache]);
    pending[cache] = 0;
  }
}
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];
export type SignInOutcome = (typeof SIGN_IN_OUTCOMES)[number];

/** What a pg Pool tells about itself (read at scrape time). */
export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** Stands for every configuration name that no administrator created (a label never holds those). */
export const UNKNOWN_CONFIGURATION = '(unknown)';
/** The route label of requests that matched no route: their URL is the caller's choice. */
export const UNMATCHED_ROUTE = '(unmatched)';

type RequestObserver = (method: string, status: number, elapsedMs: number) => void;

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

  private readonly mints = new Counter({
    name: 'datafor_mints_total',
    help: 'Token mints (POST generate) by configuration and outcome',
    labelNames: ['configuration', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly tokenSignIns = new Counter({
    name: 'datafor_token_sign_ins_total',
    help: 'Requests that presented a token, by outcome and rejection reason',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });

  private readonly passwordSignIns = new Counter({
    name: 'datafor_password_sign_ins_total',
    help: 'Sign-ins with a username and password (HTTP Basic or session login) by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });

  /**
   * Cache lookups happen several times a request: they are counted in plain numbers and handed to
   * the counters at each scrape (a labelled inc hashes its labels on every call).
   */
  private readonly lookupsPending = pendingCounts();
  private readonly missesPending = pendingCounts();

  private readonly cacheLookups: Counter<'cache'> = new Counter({
    name: 'datafor_cache_lookups_total',
    help: 'Lookups in an in-memory cache',
    labelNames: ['cache'] as const,
    registers: [this.registry],
    collect: (): void => flush(this.cacheLookups, this.lookupsPending),
  });

  private readonly cacheMisses: Counter<'cache'> = new Counter({
    name: 'datafor_cache_misses_total',
    help: 'Lookups that the cache could not answer (the store was read)',
    labelNames: ['cache'] as const,
    registers: [this.registry],
    collect: (): void => flush(this.cacheMisses, this.missesPending),
  });

  private readonly requestDuration = new Histogram({
    name: 'datafor_http_request_duration_seconds',
    help: 'Time from request to answer, by route pattern, method and status code',
    labelNames: ['route', 'method', 'code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Series whose labels are known in advance start at 0, so that rate() sees their first event.
    for (const method of SIGN_IN_METHODS)
      for (const outcome of SIGN_IN_OUTCOMES) this.passwordSignIns.inc({ method, outcome }, 0);
    this.tokenSignIns.inc({ outcome: 'success' }, 0);
    for (const cache of CACHE_NAMES) {
      this.cacheLookups.inc({ cache }, 0);
      this.cacheMisses.inc({ cache }, 0);
    }
  }

  /** Awaits a mint and counts its outcome; the configuration is named only if it exists. */
  async countMint<T>(configuration: string, minting: Promise<T>): Promise<T> {
    try {
      const minted = await minting;
      this.mints.inc({ configuration, outcome: 'success' });
      return minted;
    } catch (error) {
      const outcome = mintOutcome(error);
      // 400, 403 and 409 come after the configuration was found; a 404 may mean it does not exist,
      // and an error may strike before the lookup: the name then is the caller's, not an admin's.
      const known = outcome !== 'not_found' && outcome !== 'error';
      this.mints.inc({ configuration: known ? configuration : UNKNOWN_CONFIGURATION, outcome });
      throw error;
    }
  }

  /** @param reason why the token was refused; undefined when it signed the caller in */
  tokenSignIn(reason?: string): void {
    if (reason === undefined) this.tokenSignIns.inc({ outcome: 'success' });
    else this.tokenSignIns.inc({ outcome: 'rejected', reason });
  }

  passwordSignIn(method: SignInMethod, outcome: SignInOutcome): void {
    this.passwordSignIns.inc({ method, outcome });
  }

  cacheLookup(cache: CacheName): void {
    this.lookupsPending[cache]++;
  }

  cacheMiss(cache: CacheName): void {
    this.missesPending[cache]++;
  }

  /**
   * Observes the requests of one route pattern. Called once per route at start-up; the per-request
   * work is two map lookups and the observation.
   */
  requestObserver(route: string): RequestObserver {
    const byMethod = new Map<
      string,
      Map<number, Histogram.Internal<'route' | 'method' | 'code'>>
    >();
    return (method, status, elapsedMs) => {
      let byStatus = byMethod.get(method);
      if (!byStatus) byMethod.set(method, (byStatus = new Map()));
      let child = byStatus.get(status);
      if (!child) {
        child = this.requestDuration.labels({ route, method, code: status });
        byStatus.set(status, child);
      }
      child.observe(elapsedMs / 1000);
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

  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
