import { randomBytes } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import {
  TOKEN_SERVICE_ENTITIES,
  TOKEN_SERVICE_MIGRATIONS,
  TokenModule,
  type TokenModuleOptions,
} from '../src/index';
import { verifyHmacToken } from './support/jwt';

const SECRET = 'host-app-shared-secret-0123456789abcdef';
const TOKEN_API = '/plugin/datafor-modeler/api/token';

interface HostUser {
  login: string;
  groups: string[];
}

/** The host's own authentication: a trusted header set by its gateway. */
@Injectable()
class GatewayHeaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const login = request.headers['x-gateway-user'];
    if (typeof login === 'string') {
      const user: HostUser = { login, groups: login === 'boss' ? ['bi-admins'] : [] };
      (request as FastifyRequest & { user?: HostUser }).user = user;
    }
    return true;
  }
}

const hostOptions: TokenModuleOptions = {
  secretsKey: randomBytes(32),
  principal: (user) => {
    const { login, groups } = user as HostUser;
    return {
      username: login,
      usertype: groups.includes('bi-admins') ? 'Administrator' : 'SYS_Reader',
    };
  },
};

const database = TypeOrmModule.forRoot({
  type: 'better-sqlite3',
  database: ':memory:',
  entities: TOKEN_SERVICE_ENTITIES,
  migrations: TOKEN_SERVICE_MIGRATIONS,
  migrationsRun: true,
});

async function startHost(
  tokenModule: ReturnType<typeof TokenModule.forRoot>,
): Promise<NestFastifyApplication> {
  @Module({
    imports: [database, tokenModule],
    providers: [{ provide: APP_GUARD, useClass: GatewayHeaderGuard }],
  })
  class HostAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [HostAppModule] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe.each([
  ['forRoot', () => TokenModule.forRoot(hostOptions)],
  ['forRootAsync', () => TokenModule.forRootAsync({ useFactory: async () => hostOptions })],
])('TokenModule.%s embedded in a host app with its own authentication', (_, tokenModule) => {
  let app: NestFastifyApplication;
  const call = (user: string | undefined, url: string, payload: object) =>
    app.inject({ method: 'POST', url, headers: user ? { 'x-gateway-user': user } : {}, payload });

  beforeAll(async () => {
    app = await startHost(tokenModule());
  });
  afterAll(() => app.close());

  it('mints a token for the host admin, which an independent HMAC check accepts', async () => {
    expect(
      (await call('boss', `${TOKEN_API}/update`, { name: 'ERP', secret: SECRET, enable: '1' }))
        .statusCode,
    ).toBe(200);
    const response = await call('boss', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'alice' },
    });
    expect(response.statusCode).toBe(200);
    const { claims, header } = verifyHmacToken(response.json().token, SECRET);
    expect(header.kid).toBe('ERP');
    expect(claims).toMatchObject({ ERP: 'alice' });
  });

  it("records the host's user as the configuration's creator", async () => {
    const response = await app.inject({
      method: 'GET',
      url: `${TOKEN_API}/content?name=ERP`,
      headers: { 'x-gateway-user': 'boss' },
    });
    expect(response.json()).toMatchObject({ success: true, creatorId: 'boss' });
  });

  it('answers 403 with the envelope to a host user who is not a BI admin', async () => {
    const response = await call('clerk', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'alice' },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ success: false, code: '403' });
  });

  it('answers 401 with the envelope when the host authenticated nobody', async () => {
    const response = await call(undefined, `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'alice' },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ success: false, code: '401' });
  });

  it('validates the body with field paths, as the standalone service does', async () => {
    const response = await call('boss', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      payload: {},
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      { field: 'payload.username', message: 'must be a non-empty string' },
    ]);
  });
});
