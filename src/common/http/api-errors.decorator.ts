import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorEnvelopeDto } from './error-envelope';

const MEANINGS: Record<number, string> = {
  400: 'Malformed JSON, a field missing, of the wrong type or out of range, an unknown field',
  401: 'No credentials or wrong credentials (WWW-Authenticate: Basic realm="datafor")',
  403: 'Authenticated, but not an Administrator (or a session opened with an SSO token); or a request from another site acting with the session cookie',
  404: 'The named configuration or user does not exist',
  409: 'The configuration or user is disabled, or a uniqueness conflict',
  413: 'Body over the limit',
  415: 'Content type other than JSON or form-urlencoded',
  429: 'Too many requests, or too many failed sign-ins (see Retry-After)',
};

/** Documents the error answers an endpoint gives, each with the envelope as its body. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: MEANINGS[status], type: ErrorEnvelopeDto }),
    ),
  );
}
