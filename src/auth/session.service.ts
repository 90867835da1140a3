import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { type AppSettings, settingsConfig } from '../config/settings.config';
import { SessionEntity } from './entities/session.entity';

export const SESSION_COOKIE = 'JSESSIONID';

const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');

/** Server-side sessions behind the JSESSIONID cookie; stored in the database, so every instance sees them. */
@Injectable()
export class SessionService {
  private readonly ttlMs: number;

  constructor(
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    @Inject(settingsConfig.KEY) settings: AppSettings,
  ) {
    this.ttlMs = settings.sessionTtl * 1000;
  }

  get ttlSeconds(): number {
    return this.ttlMs / 1000;
  }

  /** Opens a session; answers the cookie value, which only the browser keeps. */
  async open(username: string): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const now = Date.now();
    await this.sessions.insert({
      idHash: hashOf(id),
      username,
      createdDate: now,
      expiresAt: now + this.ttlMs,
    });
    await this.sessions.delete({ expiresAt: LessThan(now) });
    return id;
  }

  /** The username of a live session, else undefined. */
  async find(id: string | undefined): Promise<string | undefined> {
    if (!id || id.length > 128) return undefined;
    const session = await this.sessions.findOneBy({ idHash: hashOf(id) });
    return session && session.expiresAt > Date.now() ? session.username : undefined;
  }

  async close(id: string | undefined): Promise<void> {
    if (id && id.length <= 128) await this.sessions.delete({ idHash: hashOf(id) });
  }
}
