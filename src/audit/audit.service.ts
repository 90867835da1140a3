import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
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
}
