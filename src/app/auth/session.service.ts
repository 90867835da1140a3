import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import type { UserEntity } from '../../users/entities/user.entity';
import { UsersService } from '../../users/users.service';
import { SessionEntity } from './entities/session.entity';

export const SESSION_COOKIE = 'JSESSIONID';

const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');

/** Server-side sessions behind the JSESSIONID cookie; stored in the database, so every instance sees them. */
@Injectable()
export class SessionService {
  private readonly ttlMs: number;

  constructor(
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    private readonly users: UsersService,
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

  /**
   * The user of a live session, else undefined. A session ends when its user's access changes
   * after it began: a new password, type or flag, or a user deleted and created again under the
   * name. A profile or roles edit leaves it alone (roles are read afresh on every request).
   */
  async find(id: string | undefined): Promise<UserEntity | undefined> {
    if (!id || id.length > 128) return undefined;
    const session = await this.sessions.findOneBy({ idHash: hashOf(id) });
    if (!session || session.expiresAt <= Date.now()) return undefined;
    const user = await this.users.findByUsername(session.username);
    return user?.enabled && user.accessChangedDate <= session.createdDate ? user : undefined;
  }

  async close(id: string | undefined): Promise<void> {
    if (id && id.length <= 128) await this.sessions.delete({ idHash: hashOf(id) });
  }
}
