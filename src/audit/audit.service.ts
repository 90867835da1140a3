import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  Between,
  type EntityManager,
  type FindOptionsWhere,
  In,
  LessThan,
  MoreThanOrEqual,
  Repository,
} from 'typeorm';
import { sqliteConnectionOf } from '../database/sqlite-connection';
import type { AuditQueryDto } from './dto/audit-query.dto';
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

type Row = Omit<AuditEventEntity, 'id'>;

/**
 * What a caller typed, fit for any database: control characters (PostgreSQL refuses NUL) kept as
 * `?`, and cut to the column's length in characters, never inside a surrogate pair.
 */
const printable = (text: string, max: number) =>
  Array.from(text.replace(/[\u0000-\u001f\u007f]/g, '?'))
    .slice(0, max)
    .join('');

function rowOf(entry: AuditRecord): Row {
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

interface Pending {
  rows: Row[];
  written: Promise<void>;
}

/** Rows per INSERT: well under the bind-parameter limits of SQLite and PostgreSQL. */
const MAX_BATCH = 500;

/**
 * The audit trail. Callers pass names and ids only: never a secret, password or token.
 * Writes are group-committed: the events recorded while the event loop turns go to the database
 * in one INSERT, and each caller's promise settles once its row is stored, so an acknowledged
 * request is always on record, at a fraction of the cost of one statement per event.
 */
@Injectable()
export class AuditService {
  private pending?: Pending;
  private sqliteInsert?: (rows: Row[]) => void;

  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
  ) {}

  record(entry: AuditRecord): Promise<void> {
    if (!this.pending || this.pending.rows.length >= MAX_BATCH) this.pending = this.schedule();
    this.pending.rows.push(rowOf(entry));
    return this.pending.written;
  }

  /**
   * Runs `change` in a transaction that also writes its events: a change is stored with its
   * record or not at all, so a write that fails (a full disk) is never stored yet answered 503.
   */
  recordChange<T>(
    change: (manager: EntityManager) => Promise<T>,
    events: (result: T) => AuditRecord[],
  ): Promise<T> {
    return this.events.manager.transaction(async (manager) => {
      const result = await change(manager);
      const rows = events(result).map(rowOf);
      if (rows.length > 0) await manager.insert(AuditEventEntity, rows);
      return result;
    });
  }

  private schedule(): Pending {
    const rows: Row[] = [];
    const written = new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        if (this.pending?.rows === rows) this.pending = undefined;
        this.insert(rows).then(resolve, reject);
      }),
    );
    return { rows, written };
  }

  /**
   * One group's rows in one commit. On SQLite, a statement prepared once runs per row in one
   * transaction: TypeORM would build and prepare a multi-row INSERT for every group size.
   */
  private async insert(rows: Row[]): Promise<void> {
    const connection = sqliteConnectionOf(this.events.manager.connection);
    if (!connection) {
      await this.events.insert(rows);
      return;
    }
    this.sqliteInsert ??= (() => {
      const statement = connection.prepare(
        'INSERT INTO audit_events (at, actor, action, target, client, outcome, details) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      return connection.transaction((group: Row[]) => {
        for (const row of group) {
          statement.run(
            row.at,
            row.actor,
            row.action,
            row.target,
            row.client,
            row.outcome,
            row.details === null ? null : JSON.stringify(row.details),
          );
        }
      });
    })();
    this.sqliteInsert(rows);
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

  /** Events matching the filters, newest first, a page at a time. */
  async list(
    query: AuditQueryDto,
  ): Promise<{ events: AuditEventEntity[]; total: number; page: number; size: number }> {
    const page = query.page ?? 1;
    const size = query.size ?? 50;
    const where: FindOptionsWhere<AuditEventEntity> = {};
    if (query.action) where.action = query.action;
    if (query.actor) where.actor = query.actor;
    if (query.target) where.target = query.target;
    if (query.from !== undefined && query.to !== undefined)
      where.at = Between(query.from, query.to - 1);
    else if (query.from !== undefined) where.at = MoreThanOrEqual(query.from);
    else if (query.to !== undefined) where.at = LessThan(query.to);
    const [events, total] = await this.events.findAndCount({
      where,
      order: { at: 'DESC', id: 'DESC' },
      skip: (page - 1) * size,
      take: size,
    });
    return { events, total, page, size };
  }
}
