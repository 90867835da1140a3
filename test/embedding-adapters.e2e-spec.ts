import { randomBytes } from 'node:crypto';
import {
  Body,
  CanActivate,
  Controller,
  type DynamicModule,
  ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  INestApplication,
  Module,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  type ErrorStatusMode,
  TOKEN_SERVICE_ENTITIES,
  TOKEN_SERVICE_MIGRATIONS,
  TokenAuthenticationGuard,
  TokenModule,
  type TokenUser,
} from '../src';
import { TOKEN_API, USER_API } from './support/api-paths';
import { verifyHmacToken } from './support/jwt';

const SECRET = 'adapters-suite-secret-0123456789abcdef';

interface HostUser {
  login: string;
  admin: boolean;
}

/** The host's own authentication: an API key header. */
@Injectable()
class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, unknown>; user?: HostUser }>();
    const key = request.headers['x-api-key'];
    if (key === 'admin-key') request.user = { login: 'boss', admin: true };
    if (key === 'clerk-key') request.user = { login: 'clerk', admin: false };
    return true;
  }
}

@Controller('host')
class HostController {
  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: unknown) {
    return { echoed: body };
  }

  @Get('me')
  @UseGuards(TokenAuthenticationGuard)
  me(@Req() request: { user?: HostUser | TokenUser }) {
    if (!request.user || !('via' in request.user)) throw new UnauthorizedException();
    return { username: request.user.username };
  }
}

@Module({})
class HostModule {}

/** The host app, with TokenModule answering its errors in `errorStatus`'s way. */
function hostModule(errorStatus?: ErrorStatusMode): DynamicModule {
  return {
    module: HostModule,
    imports: [
      TypeOrmModule.forRoot({
        type: 'better-sqlite3',
        database: ':memory:',
        entities: TOKEN_SERVICE_ENTITIES,
        migrations: TOKEN_SERVICE_MIGRATIONS,
        migrationsRun: true,
      }),
      TokenModule.forRoot({
        secretsKey: randomBytes(32),
        principal: (user: HostUser | TokenUser) =>
          'via' in user
            ? user
            : { username: user.login, usertype: user.admin ? 'Administrator' : 'SYS_Reader' },
        errorStatus,
      }),
    ],
    controllers: [HostController],
    providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }],
  };
}

describe.each([
  ['Fastify', () => new FastifyAdapter()],
  ['Express', () => new ExpressAdapter()],
])('TokenModule in a host on %s', (_, adapter) => {
  let app: INestApplication;
  let origin: string;
  const send = (path: string, init: RequestInit & { key?: string } = {}) =>
    fetch(`${origin}${path}`, {
      ...init,
      headers: { ...(init.key ? { 'x-api-key': init.key } : {}), ...init.headers },
    });
  const json = (path: string, body: string, key = 'admin-key') =>
    send(path, { method: 'POST', key, body, headers: { 'content-type': 'application/json' } });
  const form = (path: string, fields: Record<string, string>, key = 'admin-key') =>
    send(path, {
      method: 'POST',
      key,
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

  beforeAll(async () => {
    app = await NestFactory.create(hostModule(), adapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    origin = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(() => app.close());

  it('takes a configuration as a form body, and mints with the older flat form shape', async () => {
    const saved = await form(`${TOKEN_API}/update`, { name: 'ERP', secret: SECRET, enable: '1' });
    expect(saved.status).toBe(200);
    expect(await saved.json()).toMatchObject({ success: true });
    const minted = await form(`${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      username: 'alice',
    });
    expect(minted.status).toBe(200);
    const { claims } = verifyHmacToken(((await minted.json()) as { token: string }).token, SECRET);
    expect(claims).toMatchObject({ ERP: 'alice' });
  });

  it("signs a token's user in on the host's route, by Bearer header and by ?token=", async () => {
    const minted = await json(
      `${TOKEN_API}/generate`,
      JSON.stringify({ name: 'ERP', privateKey: SECRET, payload: { username: 'carol' } }),
    );
    const { token } = (await minted.json()) as { token: string };
    for (const response of [
      await send('/host/me', { headers: { authorization: `Bearer ${token}` } }),
      await send(`/host/me?token=${token}`),
    ]) {
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ username: 'carol' });
    }
  });

  it('answers 403 with the envelope to the host user who is not an admin', async () => {
    const response = await json(
      `${TOKEN_API}/generate`,
      JSON.stringify({ name: 'ERP' }),
      'clerk-key',
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ success: false, code: '403' });
  });

  it('answers malformed JSON on its routes with the envelope', async () => {
    const response = await json(`${TOKEN_API}/generate`, '{"name": "ERP",');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      success: false,
      code: '400',
      msg: 'body is not valid JSON',
    });
  });

  it('answers a body over the limit with 413 and the envelope', async () => {
    const response = await json(
      `${TOKEN_API}/update`,
      JSON.stringify({ name: 'ERP', secret: 'x'.repeat(2 * 1024 * 1024) }),
    );
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ success: false, code: '413' });
  });

  it('answers a body that is neither JSON nor a form with 415 and the envelope', async () => {
    const response = await send(`${TOKEN_API}/update`, {
      method: 'POST',
      key: 'admin-key',
      body: '<name>ERP</name>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ success: false, code: '415' });
  });

  // text/plain: both hosts parse it (Fastify's default parsers include it), so the module's own
  // 415 is the one that must wait for the authentication and admin answers.
  const USER_UPSERT = `${USER_API}/insertOrUpdate`;
  it.each([
    [`${TOKEN_API}/update`, 'anonymous', 401, undefined],
    [`${TOKEN_API}/update`, 'clerk', 403, 'clerk-key'],
    [`${TOKEN_API}/update`, 'admin', 415, 'admin-key'],
    [`${TOKEN_API}/generate`, 'admin', 415, 'admin-key'],
    [USER_UPSERT, 'anonymous', 401, undefined],
    [USER_UPSERT, 'clerk', 403, 'clerk-key'],
    [USER_UPSERT, 'admin', 415, 'admin-key'],
  ])('answers a text/plain body on %s from the %s by %i', async (path, _, status, key) => {
    const response = await send(path, {
      method: 'POST',
      key,
      body: 'name=ERP',
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ success: false, code: String(status) });
  });

  it("leaves the host's own routes to the host's error handling", async () => {
    const response = await json('/host/echo', '{"broken":');
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ statusCode: 400 });
    expect(body).not.toHaveProperty('success');
  });
});

describe.each([
  ['Fastify', () => new FastifyAdapter()],
  ['Express', () => new ExpressAdapter()],
])("TokenModule with errorStatus '200' in a host on %s", (_, adapter) => {
  let app: INestApplication;
  let origin: string;
  const json = (path: string, body: string, key: string) =>
    fetch(`${origin}${path}`, {
      method: 'POST',
      body,
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
    });

  beforeAll(async () => {
    app = await NestFactory.create(hostModule('200'), adapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    origin = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(() => app.close());

  it("answers its routes' errors 200 with the envelope, and leaves the host's routes alone", async () => {
    const cases: [string, string, string, string][] = [
      [`${TOKEN_API}/generate`, JSON.stringify({ name: 'ERP' }), 'clerk-key', '403'],
      [`${TOKEN_API}/generate`, '{"name": "ERP",', 'admin-key', '400'],
      [
        `${TOKEN_API}/update`,
        JSON.stringify({ name: 'ERP', secret: 'x'.repeat(2 * 1024 * 1024) }),
        'admin-key',
        '413',
      ],
      [`${TOKEN_API}/delete`, JSON.stringify({ name: 'nope' }), 'admin-key', '404'],
    ];
    for (const [path, body, key, code] of cases) {
      const response = await json(path, body, key);
      expect({ path, code, status: response.status, body: await response.json() }).toMatchObject({
        status: 200,
        body: { success: false, code },
      });
    }
    expect((await json('/host/echo', '{"broken":', 'admin-key')).status).toBe(400);
  });
});
