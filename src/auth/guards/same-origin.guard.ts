import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import type { AuthenticatedUser } from '../authenticated-user';
import { SAME_ORIGIN_ONLY } from './same-origin-only.decorator';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin of a URL, or undefined for an opaque (`null`) or malformed one. */
function originOf(url: string): string | undefined {
  try {
    const { origin } = new URL(url);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/**
 * Refuses cross-site requests that act with the session cookie (CSRF): an unsafe method
 * authenticated by the cookie must come from this service's origin or one of CORS_ORIGINS, as
 * Origin says, else Sec-Fetch-Site, else Referer. A request with none of them (curl, a server)
 * passes; Basic and Bearer callers are not concerned, since a browser never adds those by itself.
 */
@Injectable()
export class SameOriginGuard implements CanActivate {
  private readonly allowed: Set<string>;

  constructor(
    private readonly reflector: Reflector,
    @Inject(settingsConfig.KEY) settings: AppSettings,
  ) {
    this.allowed = new Set(
      settings.corsOrigins.map(originOf).filter((origin) => origin !== undefined),
    );
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (SAFE_METHODS.has(request.method)) return true;
    const viaSession = (request.user as AuthenticatedUser | undefined)?.via === 'session';
    const sameOriginOnly = this.reflector.getAllAndOverride<boolean>(SAME_ORIGIN_ONLY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!viaSession && !sameOriginOnly) return true;
    if (this.fromAllowedSite(request)) return true;
    throw new ForbiddenException(
      "a request from another site cannot act with this service's session: its Origin, Sec-Fetch-Site or Referer names another origin",
    );
  }

  private fromAllowedSite(request: FastifyRequest): boolean {
    const { origin, referer } = request.headers;
    if (origin !== undefined) return this.isAllowed(origin, request);
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
