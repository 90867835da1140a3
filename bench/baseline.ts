/**
 * The floor any Node implementation pays, on an HMAC key parsed once (a cached KeyObject):
 * - generate (`path`): a bare Fastify route that parses the same JSON body and signs the same
 *   claims as an HS256 JWT with node:crypto;
 * - verify (`verifyPath`): a bare Fastify route that takes the Bearer token, checks its HS256
 *   signature (createHmac, timingSafeEqual), parses header and claims, checks `exp`, and answers
 *   the username the way GET user/detail does: {success:true,data:{user:{username}}}.
 * No authentication, no validation, no database, no audit trail.
 *
 * run.ts forks this file so that the baseline has a process of its own, apart from the service's
 * heap: see serveChild (child.ts) for the messages.
 */
import {
  createHmac,
  createSecretKey,
  type KeyObject,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { serveChild } from './child';

export interface BaselineStart {
  config: BaselineConfig;
  /** POST: mints a token. */
  path: string;
  /** GET: verifies the Bearer token and answers its username. */
  verifyPath: string;
  /** The user the verify token names (the plain-NestJS anchor finds it in its Map). */
  username: string;
}

export interface BaselineConfig {
  name: string;
  secret: string;
  expire: number;
  fieldmap: { username: string; name?: string; email?: string };
}

interface GenerateBody {
  name: string;
  privateKey: string;
  payload: Record<string, string | number | boolean | string[]>;
}

const MAPPED_FIELDS = ['username', 'name', 'email'] as const;

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

const decodePart = (part: string): unknown =>
  JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** The claims of a valid, unexpired HS256 token signed with `key`, else undefined. */
function verifiedClaims(
  authorization: string | undefined,
  key: KeyObject,
): Record<string, unknown> | undefined {
  if (!authorization || authorization.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const parts = authorization.slice(7).trim().split('.');
  if (parts.length !== 3) return undefined;
  const expected = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const header = decodePart(parts[0]) as { alg?: unknown } | null;
    if (header?.alg !== 'HS256') return undefined;
    const claims = decodePart(parts[1]) as Record<string, unknown> | null;
    if (typeof claims !== 'object' || claims === null) return undefined;
    if (typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000) return undefined;
    return claims;
  } catch {
    return undefined;
  }
}

export async function startBaseline(
  config: BaselineConfig,
  path: string,
  verifyPath: string,
): Promise<FastifyInstance> {
  const key = createSecretKey(Buffer.from(config.secret, 'utf8'));
  const header = base64url({ alg: 'HS256', typ: 'JWT', kid: config.name });
  const app = Fastify({ logger: false });

  app.post<{ Body: GenerateBody }>(path, async (request) => {
    const { payload } = request.body;
    // The claims of contract section 3: mapped fields under their fieldmap names, arrays as
    // arrays, other values as strings, never the password; then iat, exp and jti.
    const claims: Record<string, string | string[] | number> = {};
    for (const field of MAPPED_FIELDS) {
      const value = payload[field];
      if (value !== undefined) claims[config.fieldmap[field] ?? field] = String(value);
    }
    for (const [field, value] of Object.entries(payload)) {
      if (field === 'password' || (MAPPED_FIELDS as readonly string[]).includes(field)) continue;
      claims[field] = Array.isArray(value) ? value : String(value);
    }
    const iat = Math.floor(Date.now() / 1000);
    claims.iat = iat;
    claims.exp = iat + config.expire;
    claims.jti = randomUUID();
    const signingInput = `${header}.${base64url(claims)}`;
    const signature = createHmac('sha256', key).update(signingInput).digest('base64url');
    return { success: true, expire: config.expire, token: `${signingInput}.${signature}` };
  });

  app.get(verifyPath, async (request, reply) => {
    const claims = verifiedClaims(request.headers.authorization, key);
    const username = claims?.[config.fieldmap.username];
    if (typeof username !== 'string')
      return reply.code(401).send({ success: false, msg: 'the token is not valid' });
    return { success: true, data: { user: { username } } };
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

if (require.main === module) {
  serveChild((start: BaselineStart) =>
    startBaseline(start.config, start.path, start.verifyPath).then((app) => ({
      server: app.server,
      close: () => app.close(),
    })),
  );
}
