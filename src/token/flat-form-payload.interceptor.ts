import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { isFormRequest } from '../common/http/form-body';
import type { HttpRequest } from '../common/http/http-request';

/**
 * The older form shape of generate sends the payload's fields flat beside `name` and
 * `privateKey`; this folds them into `payload` so that one DTO validates both shapes.
 */
@Injectable()
export class FlatFormPayloadInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const body = request.body as Record<string, unknown> | undefined;
    if (isFormRequest(request) && body && typeof body === 'object' && !('payload' in body)) {
      const { name, privateKey, ...payload } = body;
      request.body = { name, privateKey, payload };
    }
    return next.handle();
  }
}
