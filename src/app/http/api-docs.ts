import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { errorEnvelope } from '../../common/http/error-envelope';

/**
 * What the page SwaggerModule builds loads from /api-docs/ (swagger-ui-init.js is built from the
 * document). SwaggerModule serves all of swagger-ui-dist there: its package.json, README and
 * source maps, and a second copy under /api-docs/api-docs/ when a prefix is set.
 */
const UI_FILES = new Set([
  '',
  'index.html',
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'swagger-ui-standalone-preset.js',
  'swagger-ui-init.js',
  'favicon-16x16.png',
  'favicon-32x32.png',
]);

/** Swagger UI at `<basePath>/api-docs` and the document at `<basePath>/api-docs-json`; nothing else under /api-docs/. */
export function setupApiDocs(
  app: NestFastifyApplication,
  basePath: string | undefined,
  document: () => OpenAPIObject,
): void {
  const folder = `${basePath ?? ''}/api-docs/`;
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      // Answered here: routes SwaggerModule adds straight to Fastify skip Nest's exception filter.
      if (request.url.startsWith(folder)) {
        const path = request.url.split('?', 1)[0];
        if (!UI_FILES.has(path.slice(folder.length))) {
          void reply.code(404).send(errorEnvelope(404, 'not found'));
          return;
        }
      }
      done();
    });
  SwaggerModule.setup('api-docs', app, document, {
    jsonDocumentUrl: 'api-docs-json',
    useGlobalPrefix: true,
  });
}
