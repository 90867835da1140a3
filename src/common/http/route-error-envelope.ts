import { Logger } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import {
  type HttpReply,
  type RequestHeaders,
  sendError,
} from '../filters/envelope-exception.filter';
import type { ErrorStatusMode } from './error-status';

/** Where the module's controllers live, under whatever prefix the host gives them. */
export const MODULE_ROUTES_ROOT = '/plugin/datafor-modeler/api/';

const isModuleUrl = (url: string | undefined) =>
  (url ?? '').split('?')[0].includes(MODULE_ROUTES_ROOT);

type ExpressErrorMiddleware = (
  error: unknown,
  request: { originalUrl?: string; headers: RequestHeaders },
  response: HttpReply,
  next: (error: unknown) => void,
) => void;

/**
 * Body-parse errors (malformed JSON, 413, 415) happen before Nest's pipeline: the controllers'
 * filter never sees them, and the host's global error handling would answer them. This answers
 * them with the envelope on the module's routes only, leaving the host's own routes as they were:
 * a route-level error handler on Fastify, an error middleware after the body parsers on Express.
 * They answer in `mode` (see error-status.ts). It must run before Nest registers the routes.
 */
export function answerModuleRouteErrorsWithEnvelope(
  adapter: AbstractHttpAdapter,
  mode: ErrorStatusMode = 'http',
): void {
  const logger = new Logger('Errors');
  const type = adapter.getType();
  if (type === 'fastify') {
    adapter.getInstance().addHook('onRoute', (route: { url: string; errorHandler?: unknown }) => {
      if (!isModuleUrl(route.url) || route.errorHandler) return;
      route.errorHandler = (
        error: unknown,
        request: { headers: RequestHeaders },
        reply: HttpReply,
      ) => sendError(reply, error, logger, request.headers, mode);
    });
  } else if (type === 'express') {
    const middleware: ExpressErrorMiddleware = (error, request, response, next) =>
      isModuleUrl(request.originalUrl)
        ? sendError(response, error, logger, request.headers, mode)
        : next(error);
    adapter.use(middleware);
  } else {
    throw new Error(`TokenModule runs on the Fastify and Express adapters, not on "${type}".`);
  }
}
