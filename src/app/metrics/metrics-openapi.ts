import { getSchemaPath, type OpenAPIObject } from '@nestjs/swagger';
import { errorEnvelope, ErrorEnvelopeDto } from '../../common/http/error-envelope';
import type { AppSettings } from '../../config/settings.config';
import { METRICS_PATH } from './metrics-endpoint';

const METRICS_TAG = 'metrics';
const METRICS_SCHEME = 'metrics-token';

/** A few lines of what a scrape reads (the Prometheus text format, 0.0.4). */
const SCRAPE_EXAMPLE = [
  '# HELP datafor_mints_total Token mints (POST generate) by configuration and outcome',
  '# TYPE datafor_mints_total counter',
  'datafor_mints_total{configuration="ERP",outcome="success"} 42',
  '',
].join('\n');

const envelope = (status: number, msg: string) => ({
  'application/json': {
    schema: { $ref: getSchemaPath(ErrorEnvelopeDto) },
    example: errorEnvelope(status, msg),
  },
});

/**
 * Adds GET /metrics to the document when the service's own port serves it (METRICS_PORT unset).
 * The route is Fastify's, not a controller's (metrics-endpoint.ts: no guards, no rate limit, no
 * ERROR_STATUS), so SwaggerModule does not see it: it is written here, by hand. The error
 * envelope's schema is already in the document, from the controllers' error answers.
 */
export function documentMetrics(
  document: OpenAPIObject,
  settings: Pick<AppSettings, 'metricsPort'>,
): OpenAPIObject {
  if (settings.metricsPort !== undefined) return document;
  document.tags = [
    ...(document.tags ?? []),
    { name: METRICS_TAG, description: 'Prometheus metrics, for a scraper' },
  ];
  document.components = {
    ...document.components,
    securitySchemes: {
      ...document.components?.securitySchemes,
      [METRICS_SCHEME]: {
        type: 'http',
        scheme: 'bearer',
        description: 'METRICS_TOKEN, when set: then every scrape must send it',
      },
    },
  };
  document.paths[METRICS_PATH] = {
    get: {
      operationId: 'getMetrics',
      tags: [METRICS_TAG],
      summary: 'The metrics, in the Prometheus text format',
      description:
        'Counters, histograms and gauges of this instance: mints, sign-ins, caches, request durations, the ' +
        'database pool, Redis, key verifications, audit pruning, and the process. At the root whatever ' +
        'BASE_PATH says, outside the rate limit; open to anyone who reaches the port unless METRICS_TOKEN is ' +
        'set. With METRICS_PORT set, only that port serves it (and this document leaves it out). ' +
        'Its errors keep their status whatever ERROR_STATUS says.',
      // The token only when METRICS_TOKEN is set; none otherwise.
      security: [{ [METRICS_SCHEME]: [] }, {}],
      responses: {
        '200': {
          description: 'Every metric of this instance, as Prometheus scrapes it; never cached',
          content: {
            'text/plain': {
              schema: { type: 'string' },
              example: SCRAPE_EXAMPLE,
            },
          },
        },
        '401': {
          description:
            'METRICS_TOKEN is set and the request does not send it as a bearer token (WWW-Authenticate: Bearer realm="metrics")',
          content: envelope(401, 'the metrics need the bearer token METRICS_TOKEN'),
        },
        '500': {
          description: 'An unexpected failure while collecting the metrics',
          content: envelope(500, 'internal error'),
        },
      },
    },
  };
  return document;
}
