import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { SecurityHeadersTlsMode } from '../../config/settings';
import { sendError } from '../../common/filters/envelope-exception.filter';
import { errorEnvelope } from '../../common/http/error-envelope';
import { securityHeadersFor } from './security-headers';

/**
 * Fastify's errors before routing (a malformed URL such as `/%zz`, an over-long parameter): no
 * hook has run, so the security headers are set here before the envelope goes out.
 */
export function frameworkErrors(
  mode: SecurityHeadersTlsMode,
): NonNullable<FastifyServerOptions['frameworkErrors']> {
  const logger = new Logger('Errors');
  return (error: Error, request: FastifyRequest, reply: FastifyReply) => {
    void reply.headers(securityHeadersFor(mode, request.protocol));
    sendError(reply, error, logger, request.headers);
  };
}

/** What Node's parser refuses before there is a request (bad header bytes, oversized headers, timeouts). */
function clientErrorOf(code: string | undefined): { status: number; msg: string } {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, msg: 'the request did not arrive in time' };
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, msg: 'request headers are larger than the limit' };
  }
  return { status: 400, msg: 'request could not be read' };
}

/**
 * Node's parser errors answered as Fastify's default handler does (one answer, then the connection
 * closes), but with the envelope and the security headers. No header is read here: TLS is the
 * socket's own, not a proxy's.
 */
export function clientErrorHandler(
  mode: SecurityHeadersTlsMode,
): NonNullable<FastifyServerOptions['clientErrorHandler']> {
  return (error: Error & { code?: string }, socket: Socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    if (socket.writable) {
      const { status, msg } = clientErrorOf(error.code);
      const body = JSON.stringify(errorEnvelope(status, msg));
      const headers = {
        ...securityHeadersFor(mode, (socket as TLSSocket).encrypted ? 'https' : 'http'),
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(body)),
        connection: 'close',
      };
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join('')}\r\n${body}`);
    }
    socket.destroy(error);
  };
}
