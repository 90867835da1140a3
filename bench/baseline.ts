/**
 * The floor any Node implementation pays: a bare Fastify route that parses the same JSON body and
 * signs the same claims as an HS256 JWT with node:crypto, on an HMAC key parsed once.
 * No authentication, no validation, no database, no audit trail.
 *
 * run.ts forks this file so that the baseline has a process of its own (the service's process
 * carries its heap and the promise hooks of nestjs-pino's AsyncLocalStorage): the first message is
 * the `BaselineStart`, answered with the port; then each 'cpu' message with the process's CPU usage.
 */
import { createHmac, createSecretKey, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';

export interface BaselineStart {
  config: BaselineConfig;
  path: string;
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

export async function startBaseline(
  config: BaselineConfig,
  path: string,
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

  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

if (require.main === module) {
  let app: FastifyInstance | undefined;
  process.on('message', (message: BaselineStart | 'cpu') => {
    if (message === 'cpu') {
      process.send?.({ cpu: process.cpuUsage() });
    } else {
      startBaseline(message.config, message.path).then(
        (started) => {
          app = started;
          const address = started.server.address();
          process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
        },
        (error: Error) => process.send?.({ error: `the baseline did not start: ${error.message}` }),
      );
    }
  });
  process.on(
    'disconnect',
    () => void (app?.close() ?? Promise.resolve()).finally(() => process.exit(0)),
  );
}
