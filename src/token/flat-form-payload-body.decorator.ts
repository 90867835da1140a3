import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { isFormRequest } from '../common/http/form-body';
import type { HttpRequest } from '../common/http/http-request';
import { BODY_PARAM } from '../common/validation/validation.pipe';

/**
 * The older form shape of generate sends the payload's fields flat beside `name` and
 * `privateKey`; this folds them into `payload` so that one DTO validates both shapes.
 */
function foldFlatFormPayload(_data: unknown, context: ExecutionContext): unknown {
  const request = context.switchToHttp().getRequest<HttpRequest>();
  const body = request.body as Record<string, unknown> | undefined;
  if (isFormRequest(request) && body && typeof body === 'object' && !('payload' in body)) {
    const { name, privateKey, ...payload } = body;
    return { name, privateKey, payload };
  }
  return body;
}

const flatFormPayloadBody = createParamDecorator(foldFlatFormPayload);

/**
 * generate's body, in either shape. A param decorator rather than an interceptor, which costs more
 * per request; the controller's validation pipe checks it as it checks `@Body()`.
 */
export const FlatFormPayloadBody = () => flatFormPayloadBody(BODY_PARAM);
