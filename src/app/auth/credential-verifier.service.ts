import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { clientNetwork } from '../http/client-network';
import { MetricsService } from '../../metrics/metrics.service';
import { UsersService } from '../../users/users.service';
import { type AuthenticatedUser, authenticatedUser } from './authenticated-user';
import { CredentialCache } from './credential-cache';
import { DeviceCookies } from './device-cookies';
import { SIGN_IN_ACTIONS } from './known-addresses';
import { LoginAttempts, type SignInClient, TooManyFailuresException } from './login-attempts';
import { PasswordWork, SignInBusyException } from './password-work';

/** What a sign-in request carries besides the credentials. */
export interface SignInRequest {
  address: string;
  /** The device cookie the browser sent, if any (checked here, trusted only when genuine). */
  deviceCookie?: string;
}

/**
 * Checks a username and password, for Basic and for session logins alike: throttling first (so a
 * locked-out stranger learns nothing, even from the cache), then recently verified credentials
 * from the cache; a password check first takes its share of the failure budgets, then waits its
 * turn for the CPU (PasswordWork), and serves the same credentials sent meanwhile; every check's
 * outcome and every lock audited.
 */
@Injectable()
export class CredentialVerifier {
  /** Checks in flight, by credential fingerprint. */
  private readonly checking = new Map<string, Promise<AuthenticatedUser | null>>();

  constructor(
    private readonly users: UsersService,
    private readonly cache: CredentialCache,
    private readonly attempts: LoginAttempts,
    private readonly devices: DeviceCookies,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly passwordWork: PasswordWork,
  ) {}

  /** The user, or null for wrong credentials; throws TooManyFailuresException while blocked. */
  async verify(
    username: string,
    password: string,
    request: SignInRequest,
    via: 'basic' | 'session',
  ): Promise<AuthenticatedUser | null> {
    const client: SignInClient = {
      address: request.address,
      device: this.devices.deviceOf(request.deviceCookie, username),
    };
    const fingerprint = this.cache.fingerprint(username, password);
    const cached = this.cache.get(fingerprint);
    this.metrics.cacheLookup('credentials');
    if (cached) return this.admitKnownGood(cached, client, via);
    this.metrics.cacheMiss('credentials');
    // The same credentials in a check already (a client's burst on a cold cache): its outcome
    // serves them all, for one unit of the budgets and one hash.
    for (let pending = this.checking.get(fingerprint); pending;) {
      const outcome = await pending.catch((error: unknown) => {
        if (error instanceof TooManyFailuresException || error instanceof SignInBusyException)
          return undefined;
        throw error;
      });
      if (outcome) return this.admitKnownGood(outcome, client, via);
      if (outcome === null) return this.refuseKnownBad(username, client, via);
      // That check was refused for its own client: this one joins the next, or leads it.
      pending = this.checking.get(fingerprint);
    }
    const check = this.check(username, password, client, via, fingerprint);
    this.checking.set(fingerprint, check);
    try {
      return await check;
    } finally {
      if (this.checking.get(fingerprint) === check) this.checking.delete(fingerprint);
    }
  }

  /** A password known to be wrong: refused as its own try would be, audited, never counted twice. */
  private async refuseKnownBad(
    username: string,
    client: SignInClient,
    via: 'basic' | 'session',
  ): Promise<null> {
    await this.throttled(via, this.attempts.admitKnownBad(username, client));
    this.metrics.passwordSignIn(via, 'failure');
    await this.audit.record({
      actor: { username, client: client.address },
      action: SIGN_IN_ACTIONS[via],
      target: username,
      outcome: 'failure',
    });
    return null;
  }

  /** A password known to be right: only the refusals of a lock or a spent budget apply. */
  private async admitKnownGood(
    user: AuthenticatedUser,
    client: SignInClient,
    via: 'basic' | 'session',
  ): Promise<AuthenticatedUser> {
    await this.throttled(via, this.attempts.admitKnownGood(user.username, client));
    this.metrics.passwordSignIn(via, 'success');
    return { ...user, via };
  }

  private async check(
    username: string,
    password: string,
    client: SignInClient,
    via: 'basic' | 'session',
    fingerprint: string,
  ): Promise<AuthenticatedUser | null> {
    const epoch = this.cache.epoch;
    const attempt = await this.throttled(via, this.attempts.reserve(username, client));
    const user = await this.passwordWork
      .run(clientNetwork(client.address), () => this.users.verifyCredentials(username, password))
      .catch(async (error: unknown) => {
        await this.attempts.release(attempt);
        throw error;
      });
    const actor = { username, client: client.address };
    const action = SIGN_IN_ACTIONS[via];
    if (!user) {
      this.metrics.passwordSignIn(via, 'failure');
      const lock = await this.attempts.failed(attempt);
      const failure = this.audit.record({ actor, action, target: username, outcome: 'failure' });
      const locked = lock
        ? this.audit.record({
            actor,
            action: 'auth.lock',
            target: username,
            details: { seconds: lock.seconds, lockNumber: lock.lockNumber },
          })
        : undefined;
      await Promise.all([failure, locked]);
      return null;
    }
    await this.attempts.succeeded(attempt);
    this.metrics.passwordSignIn(via, 'success');
    await this.audit.record({ actor, action, target: username });
    const authenticated = authenticatedUser(user, via);
    this.cache.set(fingerprint, authenticated, epoch);
    return authenticated;
  }

  /** Counts a refusal in the metrics on its way out. */
  private throttled<T>(via: 'basic' | 'session', admission: Promise<T>): Promise<T> {
    return admission.catch((error: unknown) => {
      if (error instanceof TooManyFailuresException) this.metrics.passwordSignIn(via, 'throttled');
      throw error;
    });
  }
}
