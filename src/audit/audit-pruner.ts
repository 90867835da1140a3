import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { type Clock, CLOCK } from '../common/clock';
import { MetricsService } from '../metrics/metrics.service';
import { AUDIT_WRITER, type AuditWriter } from './audit-writer';
import { AuditService } from './audit.service';
import { AuditEventEntity } from './entities/audit-event.entity';

const DAY_MS = 86_400_000;

/** How long audit rows are kept, and how the background pruning paces itself. */
export interface AuditRetention {
  /** Rows older than this many days are deleted; 0 keeps every row. */
  days: number;
  /** Milliseconds between passes, a tenth more or less at random (instances drift apart). */
  intervalMs: number;
  /** Rows per DELETE (default 100): a mint's audit group waits for one batch at most. */
  batchSize?: number;
  /** The shortest pause between two batches while the audit trail is quiet (default 20 ms). */
  pauseMs?: number;
  /** The shortest pause after a batch that ended while groups were being written (default 250 ms). */
  busyPauseMs?: number;
}

/** The AuditRetention the AuditPruner follows (TokenModule gives it from its options). */
export const AUDIT_RETENTION = Symbol('AUDIT_RETENTION');

/** The longest retention accepted, in days (a hundred years). */
export const MAX_AUDIT_RETENTION_DAYS = 36500;

/**
 * Small batches: the groups waiting behind a batch (SQLite) wait as long as its statement runs,
 * and once its pages outgrow the page cache a batch's run grows faster than its size (the
 * figures: docs/operations.md, "Audit retention", and docs/benchmark.md).
 */
const DEFAULT_BATCH_SIZE = 100;
/**
 * The pace, set by the batch's own run. Quiet, a pass pauses after each batch 20 ms, or nine
 * times as long as the batch's statement ran if longer: at most a tenth of the writer's time.
 * Beside a stream of mints it yields: it pauses 250 ms at least (still up to 400 rows a second,
 * more than a busy ERP mints), and where the mints' groups wait for its batches (SQLite) 99 times
 * the batch's run, a hundredth of the writer's time, so that few groups ever wait behind a batch
 * and the mints' latency is not the pass's to spend. A batch's time is its statement's own, not
 * its wait for its turn, which grows with the load the pass yields to, not with the work it does.
 */
const QUIET_FACTOR = 9;
const IN_TURN_FACTOR = 99;
const DEFAULT_PAUSE_MS = 20;
const DEFAULT_BUSY_PAUSE_MS = 250;

/**
 * Deletes audit rows older than the retention, in the background: one pass per interval, each a
 * series of small batches, oldest first, through the AUDIT_WRITER, so that on SQLite a batch
 * takes its turn between the audit groups, on the writer's own connection. A batch that ends while
 * groups are being written is followed by a long pause, so that a pass yields to the mints rather
 * than adding its batches to their wait or its work to theirs (their p99). On PostgreSQL only
 * one instance deletes at a time (a batch of another instance's pass makes this one skip its
 * pass). A pass deletes only rows recorded before the cut-off it computed when it began. After
 * each pass, the oldest row left is read (the first entry of idx_audit_events_at) for the age
 * metric. The timers do not keep the process alive; the pass in progress stops at its next batch
 * when the module is destroyed.
 */
@Injectable()
export class AuditPruner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AuditPruner.name);
  private readonly batchSize: number;
  private readonly pauseMs: number;
  private readonly busyPauseMs: number;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private passing?: Promise<number>;
  /** Ends the pause between batches early, at shutdown. */
  private wake?: () => void;

  constructor(
    @Inject(AUDIT_WRITER) private readonly writer: AuditWriter,
    @Inject(AUDIT_RETENTION) private readonly retention: AuditRetention,
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
  ) {
    this.batchSize = retention.batchSize ?? DEFAULT_BATCH_SIZE;
    this.pauseMs = retention.pauseMs ?? DEFAULT_PAUSE_MS;
    this.busyPauseMs = retention.busyPauseMs ?? DEFAULT_BUSY_PAUSE_MS;
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  /** Stops the timers, and waits for the batch in progress (the writer closes after this). */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.passing?.catch(() => undefined);
  }

  /**
   * Deletes, batch after batch, every row recorded before now minus the retention, then reads the
   * oldest row left; answers how many rows it deleted. With a retention of 0 it only reads.
   */
  pass(): Promise<number> {
    this.passing ??= this.prune().finally(() => (this.passing = undefined));
    return this.passing;
  }

  private async prune(): Promise<number> {
    let total = 0;
    try {
      if (this.retention.days > 0) {
        const before = this.clock.now() - this.retention.days * DAY_MS;
        while (!this.stopped) {
          const batch = await this.writer.prune(before, this.batchSize);
          if (batch === 'busy') break;
          total += batch.deleted;
          this.metrics.auditRowsPruned(batch.deleted);
          if (batch.deleted < this.batchSize) break;
          await this.pause(this.pauseAfter(batch.ms));
        }
      }
    } finally {
      await this.observeOldest();
    }
    return total;
  }

  /** The pause after a batch whose statement ran `ms`: see QUIET_FACTOR. */
  private pauseAfter(ms: number): number {
    if (!this.audit.busy) return Math.max(this.pauseMs, ms * QUIET_FACTOR);
    return Math.max(
      this.busyPauseMs,
      ms * (this.writer.prunesInTurn ? IN_TURN_FACTOR : QUIET_FACTOR),
    );
  }

  private async observeOldest(): Promise<void> {
    if (this.stopped) return;
    try {
      const [oldest] = await this.events.find({
        select: { id: true, at: true },
        // The first entry of idx_audit_events_at: one index read.
        order: { at: 'ASC', id: 'ASC' },
        take: 1,
      });
      this.metrics.oldestAuditRow(oldest?.at);
    } catch (error) {
      this.logger.warn(`the oldest audit row was not read: ${(error as Error).message}`);
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = this.retention.intervalMs * (0.9 + Math.random() * 0.2);
    this.timer = setTimeout(() => {
      this.pass()
        .catch((error: Error) =>
          this.logger.warn(`audit rows were not pruned (tried again later): ${error.message}`),
        )
        .finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }
}

/** The AuditRetention of a host's options, checked: whole days from 0 to MAX_AUDIT_RETENTION_DAYS. */
export function auditRetention(days: number, intervalSeconds: number): AuditRetention {
  if (!Number.isInteger(days) || days < 0 || days > MAX_AUDIT_RETENTION_DAYS) {
    throw new RangeError(
      `auditRetentionDays must be a whole number of days from 0 to ${MAX_AUDIT_RETENTION_DAYS}`,
    );
  }
  if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1 || intervalSeconds > 86400) {
    throw new RangeError('auditPruneInterval must be a whole number of seconds from 1 to 86400');
  }
  return { days, intervalMs: intervalSeconds * 1000 };
}
