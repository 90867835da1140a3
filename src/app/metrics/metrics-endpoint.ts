import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { onResponseHookHandler } from 'fastify';
import { DataSource } from 'typeorm';
import { errorEnvelope } from '../../common/http/error-envelope';
import type { AppSettings } from '../../config/settings.config';
import { MetricsService, type PoolStats, UNMATCHED_ROUTE } from '../../metrics/metrics.service';

export const METRICS_PATH = '/metrics';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Anyone who reaches the listener may read, unless METRICS_TOKEN asks for it as a bearer token. */
function readerCheck(token: string | undefined): (authorization: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  const expected = digest(token);
  return (authorization) =>
    authorization?.slice(0, 7).toLowerCase() === 'bearer ' &&
    timingSafeEqual(digest(authorization.slice(7).trim()), expected);
}

/**
 * Serves the metrics: at /metrics on the service's port, or, when METRICS_PORT is set, only on a
 * listener of its own on that port (opened when the app is ready, closed with it). Not a Nest
 * controller: a scrape passes none of the sign-in guards (a METRICS_TOKEN is no JWT) and no rate
 * limit; SwaggerModule does not see it, so metrics-openapi.ts writes it into the document. Also
 * times every answer by route pattern.
 */
export function registerMetrics(app: NestFastifyApplication, settings: AppSettings): void {
  const metrics = app.get(MetricsService);
  const fastify = app.getHttpAdapter().getInstance();
  observeRequests(app, metrics);
  const dataSource = app.get(DataSource);
  // SQLite has one connection and no pool: the pool gauges exist on PostgreSQL only.
  if (dataSource.options.type === 'postgres') {
    const pool = (dataSource.driver as unknown as { master: PoolStats }).master;
    metrics.watchPool(pool, settings.dbPoolMax);
  }

  const mayRead = readerCheck(settings.metricsToken);
  const answer = async (authorization: string | undefined): Promise<Answer> =>
    mayRead(authorization)
      ? {
          status: 200,
          headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' },
          body: await metrics.scrape(),
        }
      : {
          status: 401,
          headers: { 'content-type': JSON_TYPE, 'www-authenticate': 'Bearer realm="metrics"' },
          body: JSON.stringify(
            errorEnvelope(401, 'the metrics need the bearer token METRICS_TOKEN'),
          ),
        };

  const { metricsPort } = settings;
  if (metricsPort === undefined) {
    fastify.get(METRICS_PATH, { config: { rateLimit: false } }, async (request, reply) => {
      const { status, headers, body } = await answer(request.headers.authorization);
      return reply.code(status).headers(headers).send(body);
    });
    return;
  }
  let server: Server | undefined;
  fastify.addHook('onReady', async () => {
    server = await listen(metricsPort, settings.host, answer);
    new Logger('Metrics').log(`metrics at http://${settings.host}:${metricsPort}${METRICS_PATH}`);
  });
  fastify.addHook('onClose', async () => {
    if (!server) return;
    server.closeAllConnections();
    await new Promise((closed) => server!.close(closed));
  });
}

/** One onResponse hook per route, made once with its pattern; requests that match none share one label. */
function observeRequests(app: NestFastifyApplication, metrics: MetricsService): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRoute', (route) => {
    const observe = metrics.requestObserver(route.url);
    const hook: onResponseHookHandler = (request, reply, done) => {
      observe(request.method, reply.statusCode, reply.elapsedTime);
      done();
    };
    const existing = route.onResponse;
    route.onResponse = existing ? [...[existing].flat(), hook] : [hook];
  });
  const unmatched = metrics.requestObserver(UNMATCHED_ROUTE);
  fastify.addHook('onResponse', (request, reply, done) => {
    if (request.is404) unmatched(request.method, reply.statusCode, reply.elapsedTime);
    done();
  });
}

function listen(
  port: number,
  host: string,
  answer: (authorization: string | undefined) => Promise<Answer>,
): Promise<Server> {
  const send = (response: ServerResponse, { status, headers, body }: Answer, head: boolean) =>
    response.writeHead(status, headers).end(head ? undefined : body);
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const head = request.method === 'HEAD';
    if (
      (request.url ?? '').split('?', 1)[0] !== METRICS_PATH ||
      (request.method !== 'GET' && !head)
    ) {
      const msg = `this port serves GET ${METRICS_PATH} only`;
      send(
        response,
        {
          status: 404,
          headers: { 'content-type': JSON_TYPE },
          body: JSON.stringify(errorEnvelope(404, msg)),
        },
        head,
      );
      return;
    }
    answer(request.headers.authorization).then(
      (result) => send(response, result, head),
      () =>
        send(
          response,
          {
            status: 500,
            headers: { 'content-type': JSON_TYPE },
            body: JSON.stringify(errorEnvelope(500, 'the metrics could not be collected')),
          },
          head,
        ),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
