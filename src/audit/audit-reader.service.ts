import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository, SelectQueryBuilder } from 'typeorm';
import { badField } from '../common/http/bad-request';
import { decodeCursor, encodeCursor } from './audit-cursor';
import {
  AUDIT_COUNT_LIMIT,
  type AuditExportQueryDto,
  type AuditQueryDto,
  CURSOR_RULE,
} from './dto/audit-query.dto';
import { AuditEventEntity } from './entities/audit-event.entity';

/** Rows read per query of an export. */
const EXPORT_BATCH = 1000;
/**
 * Lines per chunk written: about 25 kB, well under the size from which V8 allocates a string in
 * its large-object space, which only a full collection frees (the process would grow with the export).
 */
const LINES_PER_CHUNK = 100;

type AuditFilters = Pick<AuditQueryDto, 'action' | 'actor' | 'target' | 'from' | 'to'>;

export interface AuditPage {
  events: AuditEventEntity[];
  total: number;
  totalExact: boolean;
  page: number;
  size: number;
  next?: string;
}

/**
 * Reads the audit trail, newest first (by instant, then id). A page after a cursor starts where the
 * last one ended, through the index of the filter it uses, so its cost does not grow with the trail;
 * so does the count, which stops at AUDIT_COUNT_LIMIT. `page` skips rows and grows: older clients'.
 */
@Injectable()
export class AuditReader {
  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
  ) {}

  async list(query: AuditQueryDto): Promise<AuditPage> {
    if (query.cursor !== undefined && query.page !== undefined) {
      throw badField('cursor', 'cannot be sent with page');
    }
    const page = query.page ?? 1;
    const size = query.size ?? 50;
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw badField('cursor', CURSOR_RULE);

    const rows = this.matching(query)
      .orderBy('event.at', 'DESC')
      .addOrderBy('event.id', 'DESC')
      .take(size + 1);
    if (after)
      rows.andWhere('(event.at, event.id) < (:afterAt, :afterId)', {
        afterAt: after.at,
        afterId: after.id,
      });
    else rows.skip((page - 1) * size);
    const [found, counted] = await Promise.all([rows.getMany(), this.count(query)]);
    const events = found.slice(0, size);
    const last = events.at(-1);
    return {
      events,
      total: Math.min(counted, AUDIT_COUNT_LIMIT),
      totalExact: counted <= AUDIT_COUNT_LIMIT,
      page,
      size,
      ...(found.length > size && last ? { next: encodeCursor(last) } : {}),
    };
  }

  /**
   * The events the filters match, oldest first, as NDJSON: one event per line, each with the
   * `cursor` that continues after it. Read a batch at a time, as the consumer takes them, so
   * memory stays bounded however many rows match. Ends at the events stored when it began.
   */
  async *export(query: AuditExportQueryDto): AsyncGenerator<string> {
    const { last } = (await this.events
      .createQueryBuilder('event')
      .select('MAX(event.id)', 'last')
      .getRawOne<{ last: number | string | null }>()) ?? { last: null };
    if (last === null) return;
    let after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    for (;;) {
      const batch = this.matching(query)
        .andWhere('event.id <= :last', { last })
        .orderBy('event.at', 'ASC')
        .addOrderBy('event.id', 'ASC')
        .take(EXPORT_BATCH);
      if (after) {
        batch.andWhere('(event.at, event.id) > (:afterAt, :afterId)', {
          afterAt: after.at,
          afterId: after.id,
        });
      }
      const events = await batch.getMany();
      for (let start = 0; start < events.length; start += LINES_PER_CHUNK) {
        yield events
          .slice(start, start + LINES_PER_CHUNK)
          .map((event) => `${JSON.stringify({ ...event, cursor: encodeCursor(event) })}\n`)
          .join('');
      }
      if (events.length < EXPORT_BATCH) return;
      after = events[events.length - 1];
    }
  }

  /** The events the filters match, unordered. */
  private matching(query: AuditFilters): SelectQueryBuilder<AuditEventEntity> {
    const rows = this.events.createQueryBuilder('event');
    if (query.action !== undefined)
      rows.andWhere('event.action = :action', { action: query.action });
    if (query.actor !== undefined) rows.andWhere('event.actor = :actor', { actor: query.actor });
    if (query.target !== undefined)
      rows.andWhere('event.target = :target', { target: query.target });
    if (query.from !== undefined) rows.andWhere('event.at >= :from', { from: query.from });
    if (query.to !== undefined) rows.andWhere('event.at < :to', { to: query.to });
    return rows;
  }

  /** How many events match, counted up to one past the limit. */
  private async count(query: AuditFilters): Promise<number> {
    const [sql, parameters] = this.matching(query)
      .select('1')
      .limit(AUDIT_COUNT_LIMIT + 1)
      .getQueryAndParameters();
    const [{ matched }] = (await this.events.query(
      `SELECT COUNT(*) AS matched FROM (${sql}) counted`,
      parameters,
    )) as [{ matched: number | string }];
    return Number(matched);
  }
}
