import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { type Clock, CLOCK } from '../common/clock';
import { type AppSettings, settingsConfig } from '../config/settings.config';

/** The audit actions of a sign-in with a password, by how it came. */
export const SIGN_IN_ACTIONS = { basic: 'auth.basic', session: 'session.login' } as const;

/**
 * Addresses a user signed in from within LOGIN_KNOWN_CLIENT_TTL, read from the audit trail: the
 * database every instance shares, so nothing more to keep. Asked only while a lock or slow-down
 * is in force, through the (target, client) index.
 */
@Injectable()
export class KnownAddresses {
  private readonly ttlMs: number;

  constructor(
    private readonly audit: AuditService,
    @Inject(settingsConfig.KEY) settings: AppSettings,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.ttlMs = settings.loginKnownClientTtl * 1000;
  }

  async has(username: string, address: string): Promise<boolean> {
    if (this.ttlMs === 0) return false;
    return this.audit.succeededBefore({
      actions: Object.values(SIGN_IN_ACTIONS),
      target: username,
      client: address,
      since: this.clock.now() - this.ttlMs,
    });
  }
}
