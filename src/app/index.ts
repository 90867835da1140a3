/**
 * The standalone service's bootstrap pieces, for a host that wants to start the whole service
 * (`import { createApp } from 'datafor-token-service/app'`). It needs the service's own packages
 * (Fastify, pino, terminus, a database driver): see the optional peers in package.json.
 */
export { AppModule } from './app.module';
export type { AppModuleOptions } from './app.module';
export { buildOpenApiDocument, configureApp, createApp, fastifyAdapter } from './app.setup';
