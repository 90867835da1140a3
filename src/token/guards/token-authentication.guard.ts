import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { MetricsService } from '../../metrics/metrics.service';
import type { HttpRequest } from '../../common/http/http-request';
import { NO_TOKEN_SIGN_UP } from '../../access/admin-only.decorator';
import { TokenConfigStore } from '../token-config.store';
import { TokenSignInError, TokenSignInService } from '../token-sign-in.service';
import { TokenRejectedError } from '../token-verifier.service';

/**
 * Authenticates a request that carries a token: `Authorization: Bearer <jwt>`, or (without an
 * Authorization header) the query parameter named by an enabled configuration's `token_name`.
 * It puts the user on `request.user`, marked `via: 'token'`; requests without a token pass through.
 */
@Injectable()
export class TokenAuthenticationGuard implements CanActivate {
  constructor(
    private readonly signIns: TokenSignInService,
    private readonly configs: TokenConfigStore,
    private readonly reflector: Reflector,
    private readonly metrics: MetricsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    if (request.user) return true;
    const presented = await this.presentedToken(request);
    if (!presented) return true;
    try {
      const noSignUp = this.reflector.getAllAndOverride<boolean>(NO_TOKEN_SIGN_UP, [
        context.getHandler(),
        context.getClass(),
      ]);
      request.user = await this.signIns.signIn(presented.token, presented.tokenName, !noSignUp);
      this.metrics.tokenSignIn();
    } catch (error) {
      if (error instanceof TokenRejectedError || error instanceof TokenSignInError) {
        this.metrics.tokenSignIn(error.reason);
        throw new UnauthorizedException(error.message);
      }
      throw error;
    }
    return true;
  }

  private async presentedToken(
    request: HttpRequest,
  ): Promise<{ token: string; tokenName?: string } | undefined> {
    const authorization = request.headers.authorization;
    if (authorization) {
      return authorization.slice(0, 7).toLowerCase() === 'bearer '
        ? { token: authorization.slice(7).trim() }
        : undefined;
    }
    const query = request.query as Record<string, unknown> | undefined;
    if (!query || typeof query !== 'object' || Object.keys(query).length === 0) return undefined;
    for (const tokenName of await this.configs.tokenNames()) {
      const value = query[tokenName];
      if (typeof value === 'string' && value !== '') return { token: value, tokenName };
    }
    return undefined;
  }
}
