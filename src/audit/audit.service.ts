import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, In, MoreThanOrEqual, Repository } from 'typeorm';
import { writeTurnsOf } from '../database/write-turns';
import { AUDIT_WRITER, type AuditRow, type AuditWriter } from './audit-writer';
import { AuditEventEntity, AuditOutcome } from './entities/audit-event.entity';

/** Who acts, and from where: what every audited call carries. */
export interface Actor {
  username: string;
  client?: string;
}

export interface AuditRecord {
  actor: Actor;
  action: string;
  target: string;
  outcome?: AuditOutcome;
  details?: Record<string, string | number | boolean>;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_ALL = /[\u0000-\u001f\u007f]/g;

/**
 * What a caller typed, fit for any database: control characters (PostgreSQL refuses NUL) kept as
 * `?`, and cut to the column's length in characters, never inside a surrogate pair.
 */
const printable = (text: string, max: number) =>
  // Fewer UTF-16 units than `max` are fewer characters too: most values are kept as they are.
  text.length <= max && !CONTROL.test(text)
    ? text
    : Array.from(text.replace(CONTROL_ALL, '?')).slice(0, max).join('');

function rowOf(entry: AuditRecord): AuditRow {
  return {
    at: Date.now(),
    actor: printable(entry.actor.username, 128),
    action: entry.action,
    target: printable(entry.target, 256),
    client: entry.actor.client === undefined ? null : printable(entry.actor.client, 64),
    outcome: entry.outcome ?? 'success',
    details: entry.details ?? null,
  };
}

interface Group {
  rows: AuditRow[];
  written: Promise<void>;
  settle(error?: unknown): void;
}

function newGroup(): Group {
  let settle!: Group['settle'];
  const written = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  return { rows: [], written, settle };
}

/** Rows per INSERT: well under the bind-parameter limits of SQLite and PostgreSQL. */
const MAX_BATCH = 500;

/**
 * The audit trail. Callers pass names and ids only: never a secret, password or token.
 * Writes are group-committed: one group is written at a time, and the events recorded meanwhile
 * (while it commits and syncs) form the next one. No group waits for more to join it: a timed wait
 * would cap the write rate at the requests in flight per wait. Each caller's promise settles once
 * its row is stored, so an acknowledged request is always on record, at a fraction of the cost of
 * one commit per event. The groups go through the AUDIT_WRITER (see auditWriterFor): on SQLite
 * a connection of its own, in a worker thread.
 */
@Injectable()
export class AuditService implements OnApplicationShutdown {
  /** Groups waiting their turn, oldest first; the last takes new events until it is full. */
  private readonly queue: Group[] = [];
  /** The loop writing the queue, while there is one. */
  private writing?: Promise<void>;

  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
    @Inject(AUDIT_WRITER) private readonly writer: AuditWriter,
  ) {}

  /** Whether groups are being written now (the prune batches make way for them: AuditPruner). */
  get busy(): boolean {
    return this.writing !== undefined;
  }

  record(entry: AuditRecord): Promise<void> {
    let group = this.queue.at(-1);
    if (!group || group.rows.length >= MAX_BATCH) {
      group = newGroup();
      this.queue.push(group);
      // The first event waits for the rest of this turn of the event loop to join it.
      this.writing ??= new Promise((resolve) => setImmediate(resolve)).then(() =>
        this.writeQueue(),
      );
    }
    group.rows.push(rowOf(entry));
    return group.written;
  }

  /**
   * Runs `change` in a transaction that also writes its events: a change is stored with its
   * record or not at all, so a write that fails (a full disk) is never stored yet answered 503.
   * On SQLite, admin changes take turns (WriteTurns).
   */
  recordChange<T>(
    change: (manager: EntityManager) => Promise<T>,
    events: (result: T) => AuditRecord[],
  ): Promise<T> {
    const transaction = () =>
      this.events.manager.transaction(async (manager) => {
        const result = await change(manager);
        const rows = events(result).map(rowOf);
        if (rows.length > 0) await manager.insert(AuditEventEntity, rows);
        return result;
      });
    const turns = writeTurnsOf(this.events.manager.connection);
    return turns ? turns.run(transaction) : transaction();
  }

  /** Groups still queued are written, then the writer is closed. */
  async onApplicationShutdown(): Promise<void> {
    await this.writing;
    await this.writer.close();
  }

  /** Writes the groups in turn; a group leaves the queue before it is written, so none grows meanwhile. */
  private async writeQueue(): Promise<void> {
    for (let group = this.queue.shift(); group; group = this.queue.shift()) {
      try {
        await this.writer.write(group.rows);
        group.settle();
      } catch (error) {
        group.settle(error);
      }
    }
    this.writing = undefined;
  }

  /**
   * Whether a successful event of one of `actions` on `target`, from `client`, is on record since
   * `since` (epoch ms). The target is matched as `record` stores it.
   */
  async succeededBefore(query: {
    actions: string[];
    target: string;
    client: string;
    since: number;
  }): Promise<boolean> {
    return this.events.exists({
      where: {
        target: printable(query.target, 256),
        client: printable(query.client, 64),
        action: In(query.actions),
        outcome: 'success',
        at: MoreThanOrEqual(query.since),
      },
    });
  }
}
