import {
  CanActivate,
  ExecutionContext,
  Injectable,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { HttpRequest } from './http-request';

const ACCEPTED = ['application/json', 'application/x-www-form-urlencoded'];

/**
 * A body in another media type is a 415 on the module's routes, whatever parsers the host has:
 * Fastify refuses unknown types itself, but Express leaves their body unread. A guard rather than
 * an interceptor, which costs more per request; list it after the authentication and admin guards,
 * whose 401 and 403 come first.
 */
@Injectable()
export class JsonOrFormOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { headers } = context.switchToHttp().getRequest<HttpRequest>();
    const hasBody = Number(headers['content-length'] ?? 0) > 0 || !!headers['transfer-encoding'];
    const type = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (hasBody && !ACCEPTED.includes(type)) {
      throw new UnsupportedMediaTypeException(
        'content type must be application/json or application/x-www-form-urlencoded',
      );
    }
    return true;
  }
}
