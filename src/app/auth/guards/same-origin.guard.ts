import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { originOf } from '../../../config/cors-origins';
import { type AppSettings, settingsConfig } from '../../../config/settings.config';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses cross-site requests that change something (CSRF), however they authenticate: a browser
 * adds cookies and the Basic credentials of its own prompt by itself. An unsafe method must come
 * from this service's origin or one of CORS_ORIGINS, as Origin says, else Sec-Fetch-Site, else
 * Referer. A request with none of them (curl, a server) passes. It runs before authentication,
 * so a forged request costs no password check and counts no failed sign-in.
 */
@Injectable()
export class SameOriginGuard implements CanActivate {
  private readonly allowed: Set<string>;

  constructor(@Inject(settingsConfig.KEY) settings: AppSettings) {
    this.allowed = new Set(settings.corsOrigins);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (SAFE_METHODS.has(request.method) || this.fromAllowedSite(request)) return true;
    throw new ForbiddenException(
      'a request from another site cannot act on this service: its Origin, Sec-Fetch-Site or Referer names another origin',
    );
  }

  private fromAllowedSite(request: FastifyRequest): boolean {
    const { origin, referer } = request.headers;
    if (origin !== undefined) return this.isAllowed(origin, request);
    // Without Origin, `same-site` does not say which site: only the own origin is certain.
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined) return site === 'same-origin' || site === 'none';
    if (referer !== undefined) return this.isAllowed(referer, request);
    return true;
  }

  /** Own origin: the scheme as Fastify reads it (X-Forwarded-Proto from a trusted proxy) and the host. */
  private isAllowed(url: string, request: FastifyRequest): boolean {
    const origin = originOf(url);
    if (origin === undefined) return false;
    return this.allowed.has(origin) || origin === originOf(`${request.protocol}://${request.host}`);
  }
}
