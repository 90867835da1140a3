import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Inject,
  Logger,
  Optional,
} from '@nestjs/common';
import { errorEnvelope } from '../http/error-envelope';
import {
  answeredStatus,
  ERROR_STATUS_OPTIONS,
  type ErrorStatusMode,
  type ErrorStatusOptions,
  isDataforApiUrl,
} from '../http/error-status';
import { FieldsBadRequestException } from '../http/bad-request';
import { storageFailureOf } from '../storage-failure';

export const BASIC_CHALLENGE = 'Basic realm="datafor"';
/** A scheme browsers do not prompt for: no password dialog whose answer they would then resend. */
export const BROWSER_CHALLENGE = 'Bearer realm="datafor"';

/**
 * Headers that only browsers send: Sec-Fetch-Site (over HTTPS and to localhost only; Node's fetch
 * sends Sec-Fetch-Mode alone), Origin (cross-origin requests and posts) and a navigation's
 * Upgrade-Insecure-Requests (plain HTTP included).
 */
const BROWSER_MARKERS = ['sec-fetch-site', 'origin', 'upgrade-insecure-requests'];

/** The request headers the filter reads, as both adapters give them. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/** Basic for curl and servers, as the contract says; a browser is not invited to its Basic prompt. */
export function challengeFor(headers: RequestHeaders | undefined): string {
  const browser = BROWSER_MARKERS.some((name) => headers?.[name] !== undefined);
  return browser ? BROWSER_CHALLENGE : BASIC_CHALLENGE;
}

interface FrameworkError {
  statusCode?: number;
  code?: string;
  /** body-parser's (Express) kind of error */
  type?: string;
  message?: string;
}

/** What Fastify's reply and Express's response both offer, so that one filter serves both adapters. */
export interface HttpReply {
  status(code: number): HttpReply;
  header(name: string, value: string): unknown;
  hasHeader(name: string): boolean;
  send(body: unknown): unknown;
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/** Fastify's and Express's own errors (body parsing, limits, media types) as statuses and safe sentences. */
function describeFrameworkError(
  error: FrameworkError,
): { status: number; msg: string } | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return { status: 413, msg: 'request body is larger than the limit' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, msg: "the body's encoding or charset is not supported" };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, msg: 'request body is larger than the limit' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        msg: 'content type must be application/json or application/x-www-form-urlencoded',
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        msg: 'body must not be empty when the content type is application/json',
      };
    case 'FST_ERR_BAD_URL':
      return { status: 400, msg: 'the URL is malformed (a bad percent-encoding)' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, msg: 'body is not valid JSON' };
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON') {
    return { status: 400, msg: 'body is not valid JSON' };
  }
  const status = error.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, msg: 'request could not be read' };
  }
  return undefined;
}

/** Turns anything thrown into `{success:false, code, msg, errors?}`; the one place that does. */
@Catch()
export class EnvelopeExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');
  private readonly mode: ErrorStatusMode;

  constructor(@Optional() @Inject(ERROR_STATUS_OPTIONS) options?: ErrorStatusOptions) {
    this.mode = options?.errorStatus ?? 'http';
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<{
      headers?: RequestHeaders;
      url?: string;
      originalUrl?: string;
    }>();
    const mode = isDataforApiUrl(request.originalUrl ?? request.url) ? this.mode : 'http';
    sendError(http.getResponse<HttpReply>(), exception, this.logger, request.headers, mode);
  }
}

export function sendError(
  reply: HttpReply,
  exception: unknown,
  logger: Logger,
  headers: RequestHeaders | undefined,
  mode: ErrorStatusMode = 'http',
): void {
  let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
  let msg = 'internal error';
  let errors;
  if (exception instanceof HttpException) {
    status = exception.getStatus();
    msg = messageOf(exception);
    if (exception instanceof FieldsBadRequestException) errors = exception.fieldErrors;
  } else {
    const storage = storageFailureOf(exception);
    const known = storage
      ? { status: storage.status, msg: storage.msg }
      : describeFrameworkError((exception ?? {}) as FrameworkError);
    if (known) ({ status, msg } = known);
  }
  if (status >= 500) {
    const error = exception as Error;
    logger.error(
      { err: { type: error?.name, message: error?.message, stack: error?.stack } },
      'request failed',
    );
  }
  if (status === HttpStatus.SERVICE_UNAVAILABLE && !reply.hasHeader('Retry-After')) {
    reply.header('Retry-After', '5');
  }
  const answered = answeredStatus(status, mode);
  // A challenge belongs to a 401 answer only.
  if (answered === HttpStatus.UNAUTHORIZED) {
    reply.header('WWW-Authenticate', challengeFor(headers));
  }
  const retryAfter = (exception as { retryAfter?: unknown } | null)?.retryAfter;
  if (status === HttpStatus.TOO_MANY_REQUESTS && typeof retryAfter === 'number') {
    reply.header('Retry-After', String(retryAfter));
  }
  void reply.status(answered).send(errorEnvelope(status, msg, errors));
}
