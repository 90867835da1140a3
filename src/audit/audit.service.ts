import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Between, type FindOptionsWhere, LessThan, MoreThanOrEqual, Repository } from 'typeorm';
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

/** The audit trail. Callers pass names and ids only: never a secret, password or token. */
@Injectable()
export class AuditService {
  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
  ) {}

  async record(entry: AuditRecord): Promise<void> {
    await this.events.insert({
      at: Date.now(),
      actor: entry.actor.username.slice(0, 128),
      action: entry.action,
      target: entry.target.slice(0, 256),
      client: entry.actor.client?.slice(0, 64) ?? null,
      outcome: entry.outcome ?? 'success',
      details: entry.details ?? null,
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
