import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { errorFields, pathOf } from './logger-options';

/**
 * One line per request, when its answer is sent (Fastify's default adds an "incoming request"
 * line); at error level for a 5xx. Paths are logged without their query.
 */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error || reply.statusCode >= 500)
      reply.log.error(error ? { ...line, err: errorFields(error) } : line, 'request completed');
    else reply.log.info(line, 'request completed');
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.info(`Route ${request.method}:${pathOf(request.url)} not found`);
  }
}
