import fastifyCookie from '@fastify/cookie';
import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import pino, { type DestinationStream, type Logger as Pino } from 'pino';
import { AppModule, AppModuleOptions } from './app.module';
import { EnvelopeExceptionFilter } from '../common/filters/envelope-exception.filter';
import { setupApiDocs } from './http/api-docs';
import { clientErrorHandler, frameworkErrors } from './http/framework-errors';
import { registerRateLimit } from './http/rate-limit';
import { applyOpenApiMarks } from '../common/http/openapi';
import { documentValidationRules, refuseUnknownFields } from '../common/validation/openapi-rules';
import { registerSecurityHeaders } from './http/security-headers';
import { limitConnectionsPerAddress } from './http/connection-limit';
import { logDestination, loggerOptions, requestId } from '../config/logger-options';
import { PinoNestLogger } from '../config/pino-nest-logger';
import { RequestLogController } from '../config/request-log-controller';
import { type AppSettings, settingsConfig } from '../config/settings.config';
import { trustedPeer } from '../config/trust-proxy';
import { registerMetrics } from './metrics/metrics-endpoint';
import { documentMetrics } from './metrics/metrics-openapi';

export interface CreateAppOptions extends AppModuleOptions {
  /** Where log lines go (default: standard output). */
  logDestination?: DestinationStream;
}

/**
 * The HTTP server, with the service's one pino logger: Fastify writes a line per request with it
 * (request id, no query, redacted), and configureApp hands it to Nest for every other line.
 */
export function fastifyAdapter(
  settings: Pick<
    AppSettings,
    | 'bodyLimit'
    | 'trustProxy'
    | 'logLevel'
    | 'httpHeadersTimeout'
    | 'httpRequestTimeout'
    | 'httpKeepaliveTimeout'
    | 'httpMaxConnectionsPerAddress'
    | 'securityHeadersTls'
  >,
  destination?: DestinationStream,
): FastifyAdapter {
  const { trustProxy } = settings;
  const options = loggerOptions(settings.logLevel);
  // return503OnClosing: requests that arrive while the server drains get 503, not a dropped connection.
  const adapter = new FastifyAdapter({
    loggerInstance: pino(options, destination ?? logDestination()),
    logController: new RequestLogController(),
    genReqId: requestId,
    bodyLimit: settings.bodyLimit,
    // A hop count as Fastify compiles it (the adapter's option type leaves numbers out).
    trustProxy:
      typeof trustProxy === 'number'
        ? (_address: string, hop: number) => hop < trustProxy
        : trustProxy,
    return503OnClosing: true,
    // Errors answered before Nest and the hooks: the envelope and the security headers all the same.
    frameworkErrors: frameworkErrors(settings.securityHeadersTls),
    clientErrorHandler: clientErrorHandler(settings.securityHeadersTls),
    // Slow or idle clients: headers, then the whole request, must arrive in time (408 and closed
    // otherwise), checked every second rather than Node's 30; an idle keep-alive is closed.
    http: { headersTimeout: settings.httpHeadersTimeout * 1000, connectionsCheckingInterval: 1000 },
    requestTimeout: settings.httpRequestTimeout * 1000,
    keepAliveTimeout: settings.httpKeepaliveTimeout * 1000,
  });
  limitConnectionsPerAddress(
    adapter.getInstance().server,
    settings.httpMaxConnectionsPerAddress,
    trustedPeer(trustProxy),
  );
  return adapter;
}

/**
 * The OpenAPI document, generated from the controllers and DTOs; the rules of the request DTOs come
 * from their class-validator decorators (openapi-rules.ts). Each route names its operationId in its
 * @ApiOperation, so that a host app's own SwaggerModule.createDocument gives the same ids.
 */
export function buildOpenApiDocument(app: NestFastifyApplication) {
  documentValidationRules();
  const config = new DocumentBuilder()
    .setTitle('Datafor token service')
    .setDescription(
      'Mints signed JWTs so that users of a trusted backend (an ERP) open embedded Datafor reports without a second login. ' +
        'Errors answer {success:false, code, msg, errors?} with the status declared below; with ' +
        "ERROR_STATUS=200 (Datafor's style) the errors of these routes answer HTTP 200 with the same " +
        'envelope, code keeping the status, except 429 and 5xx, which keep theirs.',
    )
    .setVersion('1.0')
    // LICENSE and package.json: MIT.
    .setLicense('MIT', 'https://opensource.org/license/mit')
    .addTag('token', 'Token configurations; minting, revoking and introspecting their tokens')
    .addTag('users', "The service's users and their types; the caller's own detail")
    .addTag('audit', 'The audit trail: list and NDJSON export')
    .addTag('session', 'Session login and logout (the JSESSIONID cookie)')
    .addTag('health', 'Liveness and readiness, outside the rate limit')
    // Relative: Swagger UI calls the host it was loaded from, whatever address a person used.
    .addServer('/', 'This service')
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'A user of this service' }, 'basic')
    .addCookieAuth(
      'JSESSIONID',
      { type: 'apiKey', in: 'cookie', description: 'Set by the session login' },
      'session',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'A token minted here or signed by an issuer',
      },
      'bearer',
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'query',
        name: 'token',
        description: "A token in the configuration's token_name query parameter",
      },
      'token-query',
    )
    .build();
  const document = refuseUnknownFields(
    applyOpenApiMarks(SwaggerModule.createDocument(app, config)),
  );
  return documentMetrics(document, app.get<AppSettings>(settingsConfig.KEY));
}

/** Everything main.ts and the e2e tests share: plugins, prefix, error envelope, docs. */
export async function configureApp(app: NestFastifyApplication): Promise<AppSettings> {
  const settings = app.get<AppSettings>(settingsConfig.KEY);
  const fastify = app.getHttpAdapter().getInstance();
  app.useLogger(new PinoNestLogger(fastify.log as Pino));
  // Only JSON and forms (the adapter registers @fastify/formbody) carry bodies here: anything else is a 415.
  fastify.removeContentTypeParser('text/plain');
  await app.register(fastifyCookie);
  registerSecurityHeaders(fastify, settings.securityHeadersTls);
  await registerRateLimit(app, settings);
  registerMetrics(app, settings);
  // The same normalised origins as the cross-site check (SameOriginGuard): one reading of CORS_ORIGINS.
  if (settings.corsOrigins.length > 0) {
    app.enableCors({ origin: settings.corsOrigins, credentials: true, maxAge: 600 });
  }
  fastify.decorateRequest('user', undefined);

  // Global as well as on each controller: Fastify's own errors (parsing, limits) reach Nest through it.
  app.useGlobalFilters(new EnvelopeExceptionFilter());
  if (settings.basePath) {
    app.setGlobalPrefix(settings.basePath, {
      exclude: ['health/live', 'health/ready', '.well-known/jwks.json'].map((path) => ({
        path,
        method: RequestMethod.GET,
      })),
    });
  }
  setupApiDocs(app, settings.basePath, () => buildOpenApiDocument(app));
  return settings;
}

export async function createApp(options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const { logDestination: destination, ...moduleOptions } = options;
  const settings = options.settings ?? settingsConfig();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ ...moduleOptions, settings }),
    fastifyAdapter(settings, destination),
    { bufferLogs: true, abortOnError: false },
  );
  await configureApp(app);
  return app;
}
