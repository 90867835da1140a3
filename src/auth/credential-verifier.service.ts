import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { UsersService } from '../users/users.service';
import { type AuthenticatedUser, authenticatedUser } from './authenticated-user';
import { CredentialCache } from './credential-cache';
import { LoginAttempts } from './login-attempts';

export class TooManyFailuresException extends HttpException {
  constructor(readonly retryAfter: number) {
    super('too many failed sign-ins: try again later', HttpStatus.TOO_MANY_REQUESTS);
  }
}

/**
 * Checks a username and password, for Basic and for session logins alike: recently verified
 * credentials from the cache, failed attempts counted (429 past the limit), every outcome audited.
 */
@Injectable()
export class CredentialVerifier {
  constructor(
    private readonly users: UsersService,
    private readonly cache: CredentialCache,
    private readonly attempts: LoginAttempts,
    private readonly audit: AuditService,
  ) {}

  /** The user, or null for wrong credentials; throws TooManyFailuresException while blocked. */
  async verify(
    username: string,
    password: string,
    client: string | undefined,
    via: 'basic' | 'session',
  ): Promise<AuthenticatedUser | null> {
    const fingerprint = this.cache.fingerprint(username, password);
    const cached = this.cache.get(fingerprint);
    if (cached) {
      await this.attempts.succeeded(username, client);
      return { ...cached, via };
    }
    const retryAfter = await this.attempts.retryAfter(username, client);
    if (retryAfter > 0) throw new TooManyFailuresException(retryAfter);
    const user = await this.users.verifyCredentials(username, password);
    const actor = { username, client };
    const action = via === 'basic' ? 'auth.basic' : 'session.login';
    if (!user) {
      await this.attempts.failed(username, client);
      await this.audit.record({ actor, action, target: username, outcome: 'failure' });
      return null;
    }
    await this.attempts.succeeded(username, client);
    await this.audit.record({ actor, action, target: username });
    const authenticated = authenticatedUser(user, via);
    this.cache.set(fingerprint, authenticated);
    return authenticated;
  }
}
