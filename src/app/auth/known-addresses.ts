import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { type Clock, CLOCK } from '../../common/clock';
import { clientNetwork } from '../http/client-network';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import { FairTurns } from './fair-turns';
import { SignInBusyException } from './password-work';

/** The audit actions of a sign-in with a password, by how it came. */
export const SIGN_IN_ACTIONS = { basic: 'auth.basic', session: 'session.login' } as const;

/**
 * Addresses a user signed in from within LOGIN_KNOWN_CLIENT_TTL, read from the audit trail: the
 * database every instance shares, so nothing more to keep. Asked only while a lock or slow-down
 * is in force, through the (target, client) index; a quarter of the connection pool at most, in
 * turns per address (FairTurns), so that a flood of refused guesses never holds the connections
 * another client's sign-in needs.
 */
@Injectable()
export class KnownAddresses {
  private readonly ttlMs: number;
  private readonly lookups: FairTurns;

  constructor(
    private readonly audit: AuditService,
    @Inject(settingsConfig.KEY) settings: AppSettings,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.ttlMs = settings.loginKnownClientTtl * 1000;
    this.lookups = new FairTurns(
      Math.max(1, Math.floor(settings.dbPoolMax / 4)),
      settings.passwordHashQueue,
      () => new SignInBusyException(),
    );
  }

  async has(username: string, address: string): Promise<boolean> {
    if (this.ttlMs === 0) return false;
    return this.lookups.run(clientNetwork(address), () =>
      this.audit.succeededBefore({
        actions: Object.values(SIGN_IN_ACTIONS),
        target: username,
        client: address,
        since: this.clock.now() - this.ttlMs,
      }),
    );
  }
}
