import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorEnvelopeDto, errorEnvelope, type FieldError } from './error-envelope';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503;

/** One documented error answer: its status, when it happens, and a message it really gives. */
export interface ErrorAnswer {
  status: ErrorStatus;
  description?: string;
  msg?: string;
  errors?: FieldError[];
}

const DEFAULTS: Record<ErrorStatus, { description: string; msg: string; errors?: FieldError[] }> = {
  400: {
    description:
      'Malformed JSON, a field missing, of the wrong type or out of range, an unknown field',
    msg: 'payload.username must be a non-empty string',
    errors: [{ field: 'payload.username', message: 'must be a non-empty string' }],
  },
  401: {
    description: 'No credentials or wrong credentials (WWW-Authenticate: Basic realm="datafor")',
    msg: 'authentication is required',
  },
  403: {
    description:
      'Authenticated, but not an Administrator (or signed in with an SSO token); or a request from another site (Origin, Sec-Fetch-Site or Referer)',
    msg: 'only an Administrator may call this endpoint',
  },
  404: {
    description: 'The named configuration or user does not exist',
    msg: 'token configuration ERP does not exist',
  },
  409: {
    description: 'The configuration or user is disabled, or a uniqueness conflict',
    msg: 'token configuration ERP is disabled',
  },
  413: { description: 'Body over the limit', msg: 'request body is larger than the limit' },
  415: {
    description: 'Content type other than JSON or form-urlencoded',
    msg: 'content type must be application/json or application/x-www-form-urlencoded',
  },
  429: {
    description: 'Too many requests, or too many failed sign-ins (see Retry-After)',
    msg: 'too many requests: try again in 1 minute',
  },
  500: {
    description: 'An unexpected failure (logged with the request id); nothing is said of its cause',
    msg: 'internal error',
  },
  503: {
    description: 'The database is unavailable or full; nothing was changed (see Retry-After)',
    msg: 'the database is unavailable: the request was not completed, try again later',
  },
};

/** A 400 on one field, as the validation pipe words it. */
export function invalidField(field: string, message: string): ErrorAnswer {
  return { status: 400, msg: `${field} ${message}`, errors: [{ field, message }] };
}

/** What a public endpoint answers to credentials that are sent and wrong (none are needed). */
export const WRONG_CREDENTIALS: ErrorAnswer = {
  status: 401,
  description:
    'Credentials were sent and are wrong; none are needed (WWW-Authenticate: Basic realm="datafor")',
  msg: 'wrong username or password',
};

/**
 * What a route outside the rate limit still answers 429: every route checks the credentials sent
 * (AuthenticationGuard), and Basic sign-ins are throttled.
 */
export const SIGN_IN_THROTTLED: ErrorAnswer = {
  status: 429,
  description:
    'Basic credentials were sent while their sign-ins are throttled: too many failures, or too many checks waiting from this address (see Retry-After); this route has no rate limit of its own',
  msg: 'too many failed sign-ins: try again later',
};

/** What a route that needs no database answers 503: the credentials sent could not be checked. */
export const CREDENTIALS_UNCHECKED: ErrorAnswer = {
  status: 503,
  description:
    'Credentials or a session cookie were sent and could not be checked: the database is unavailable (see Retry-After)',
};

/**
 * Documents the error answers an endpoint gives, each with the envelope as its body and an example
 * of its own status; pass an ErrorAnswer where the endpoint words it otherwise.
 */
export function ApiErrors(
  ...answers: (ErrorStatus | ErrorAnswer)[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...answers.map((answer) => {
      const given: ErrorAnswer = typeof answer === 'number' ? { status: answer } : answer;
      const usual = DEFAULTS[given.status];
      // A message of the endpoint's own comes with its own field errors, never the usual ones.
      const example = given.msg
        ? errorEnvelope(given.status, given.msg, given.errors)
        : errorEnvelope(given.status, usual.msg, usual.errors);
      return ApiResponse({
        status: given.status,
        description: given.description ?? usual.description,
        type: ErrorEnvelopeDto,
        example,
      });
    }),
  );
}
