/**
 * The standalone service's bootstrap pieces, for a host that wants to start the whole service
 * (`import { createApp } from 'datafor-token-service/app'`). It needs the service's own packages
 * (Fastify and `@fastify/*`, pino, terminus, `@nestjs/config`, ioredis, a database driver), which
 * the packed library neither depends on nor names as peers: the `dependencies` of this repository's
 * package.json, the service's manifest (docs/embedding.md says so for hosts).
 */
export { AppModule } from './app.module';
export type { AppModuleOptions } from './app.module';
export { buildOpenApiDocument, configureApp, createApp, fastifyAdapter } from './app.setup';
