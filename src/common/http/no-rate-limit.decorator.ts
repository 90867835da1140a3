import { SetMetadata } from '@nestjs/common';

/**
 * @nestjs/platform-fastify's RouteConfig metadata key, spelled out so that the controllers a host
 * embeds do not load the Fastify adapter (an Express host has none); other adapters ignore it.
 */
const FASTIFY_ROUTE_CONFIG = '__fastify_route_config__';

/** Marks a public endpoint (health, the caller's detail, user types, logout) as outside the rate limit. */
export const NoRateLimit = () => SetMetadata(FASTIFY_ROUTE_CONFIG, { rateLimit: false });
