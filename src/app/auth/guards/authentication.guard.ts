import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { canonicalUsername } from '../../../common/validation/username';
import { type AuthenticatedUser, authenticatedUser } from '../authenticated-user';
import { CredentialVerifier, type SignInRequest } from '../credential-verifier.service';
import { DEVICE_COOKIE } from '../device-cookies';
import { SESSION_COOKIE, SessionService } from '../session.service';

/**
 * Authenticates the standalone service's callers: HTTP Basic, else the session cookie (unless a
 * token already signed the caller in). It only puts `request.user` in place (anonymous callers
 * pass through); authorisation is AdminGuard's.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly credentials: CredentialVerifier,
    private readonly sessions: SessionService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (request.user) return true;
    const authorization = request.headers.authorization;
    if (authorization?.slice(0, 6).toLowerCase() === 'basic ') {
      request.user = await this.basic(authorization.slice(6).trim(), {
        address: request.ip,
        deviceCookie: request.cookies?.[DEVICE_COOKIE],
      });
      return true;
    }
    const user = await this.sessions.find(request.cookies?.[SESSION_COOKIE]);
    if (user) request.user = authenticatedUser(user, 'session');
    return true;
  }

  private async basic(encoded: string, client: SignInRequest): Promise<AuthenticatedUser> {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new UnauthorizedException('the Basic credentials are malformed');
    // In the stored form (NFC); a name no user can have goes on as given, to count as a failure.
    const username = decoded.slice(0, colon);
    const user = await this.credentials.verify(
      canonicalUsername(username) ?? username,
      decoded.slice(colon + 1),
      client,
      'basic',
    );
    if (!user) throw new UnauthorizedException('wrong username or password');
    return user;
  }
}
