import { randomBytes } from 'node:crypto';
import {
  CanActivate,
  Controller,
  type DynamicModule,
  ExecutionContext,
  Get,
  Injectable,
  Module,
  Req,
  type Type,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import {
  AdminGuard,
  TOKEN_SERVICE_ENTITIES,
  TOKEN_SERVICE_MIGRATIONS,
  TokenAuthenticationGuard,
  TokenModule,
  type TokenModuleOptions,
  type TokenUser,
} from '../src';
import { TOKEN_API } from './support/api-paths';
import { verifyHmacToken } from './support/jwt';
import { MODULE_OPERATION_IDS } from './support/operation-ids';

const SECRET = 'host-app-shared-secret-0123456789abcdef';

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

const hostOptions: TokenModuleOptions<HostUser | TokenUser> = {
  secretsKey: randomBytes(32),
  principal: (user) =>
    'via' in user
      ? user
      : {
          username: user.login,
          usertype: user.groups.includes('bi-admins') ? 'Administrator' : 'SYS_Reader',
        },
};

/** The host's own routes, behind the module's exported guards. */
@Controller('reports')
class ReportsController {
  @Get()
  @UseGuards(TokenAuthenticationGuard)
  list(@Req() request: { user?: HostUser | TokenUser }) {
    if (!request.user || !('via' in request.user)) throw new UnauthorizedException();
    return { username: request.user.username, via: request.user.via };
  }

  @Get('admin')
  @UseGuards(AdminGuard)
  admin() {
    return { admin: true };
  }
}

const database = TypeOrmModule.forRoot({
  type: 'better-sqlite3',
  database: ':memory:',
  entities: TOKEN_SERVICE_ENTITIES,
  migrations: TOKEN_SERVICE_MIGRATIONS,
  migrationsRun: true,
});

/** A host feature module of its own, which does not import TokenModule. */
@Module({ controllers: [ReportsController] })
class ReportsModule {}

/** The host's own modules beside TokenModule: by default, ReportsController in the importing module. */
interface HostLayout {
  controllers?: Type[];
  imports?: Type[];
}

function hostModule(tokenModule: DynamicModule, layout: HostLayout): Type {
  @Module({
    imports: [database, tokenModule, ...(layout.imports ?? [])],
    controllers: layout.controllers ?? [],
    providers: [{ provide: APP_GUARD, useClass: GatewayHeaderGuard }],
  })
  class HostAppModule {}
  return HostAppModule;
}

async function startHost(
  tokenModule: DynamicModule,
  layout: HostLayout = { controllers: [ReportsController] },
): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [hostModule(tokenModule, layout)],
  }).compile();
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

  it("signs a token's user in on the host's own route, by Bearer header and by ?token=", async () => {
    const minted = await call('boss', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'carol' },
    });
    const { token } = minted.json();
    for (const request of [
      { url: '/reports', headers: { authorization: `Bearer ${token}` } },
      { url: `/reports?token=${token}`, headers: {} },
    ]) {
      const response = await app.inject({ method: 'GET', ...request });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ username: 'carol', via: 'token' });
    }
    expect((await app.inject({ method: 'GET', url: '/reports' })).statusCode).toBe(401);
  });

  it("lets AdminGuard guard the host's own route", async () => {
    const admin = (user: string) =>
      app.inject({ method: 'GET', url: '/reports/admin', headers: { 'x-gateway-user': user } });
    expect((await admin('boss')).statusCode).toBe(200);
    expect((await admin('clerk')).statusCode).toBe(403);
  });

  it("gives the module's operations their ids in the host's own OpenAPI document", () => {
    // The host documents its app itself, without the standalone service's document builder.
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    const ids = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, { operationId?: string }>)
        .filter(([method]) => `${method} ${path}` in MODULE_OPERATION_IDS)
        .map(([method, operation]) => [`${method} ${path}`, operation.operationId]),
    );
    expect(Object.fromEntries(ids)).toEqual(MODULE_OPERATION_IDS);
  });
});

/** A host route for Administrators that also lets the users of a token in (to refuse them). */
@Controller('admin-reports')
@UseGuards(TokenAuthenticationGuard, AdminGuard)
class AdminReportsController {
  @Get()
  list() {
    return { admin: true };
  }
}

/** A host feature module that guards its route with AdminGuard alone, and does not import TokenModule. */
@Controller('host-admin')
@UseGuards(AdminGuard)
class HostAdminController {
  @Get()
  get() {
    return { admin: true };
  }
}

@Module({ controllers: [HostAdminController] })
class HostAdminModule {}

/** Mints a token for `username` as the host's admin, through the module's own endpoints. */
async function mint(app: NestFastifyApplication, username: string): Promise<string> {
  const headers = { 'x-gateway-user': 'boss' };
  const call = (url: string, payload: object) =>
    app.inject({ method: 'POST', url, headers, payload });
  await call(`${TOKEN_API}/update`, { name: 'ERP', secret: SECRET, enable: '1' });
  const minted = await call(`${TOKEN_API}/generate`, {
    name: 'ERP',
    privateKey: SECRET,
    payload: { username },
  });
  return minted.json().token;
}

describe("TokenModule's isGlobal", () => {
  describe('false: both guards on a route of the module that imports TokenModule', () => {
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await startHost(TokenModule.forRoot({ ...hostOptions, isGlobal: false }), {
        controllers: [AdminReportsController],
      });
    });
    afterAll(() => app.close());
    const get = (headers: Record<string, string>) =>
      app.inject({ method: 'GET', url: '/admin-reports', headers });

    it('answers 401 without credentials', async () => {
      expect((await get({})).statusCode).toBe(401);
    });

    it("answers 403 to a token's user and to a host user who is not an admin", async () => {
      const token = await mint(app, 'carol');
      const refused = await get({ authorization: `Bearer ${token}` });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().message).toMatch(/a session opened with a token/);
      expect((await get({ 'x-gateway-user': 'clerk' })).statusCode).toBe(403);
    });

    it('answers 200 to an admin', async () => {
      const response = await get({ 'x-gateway-user': 'boss' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ admin: true });
    });
  });

  it("true: a host's child module that does not import TokenModule uses TokenAuthenticationGuard", async () => {
    const app = await startHost(TokenModule.forRoot({ ...hostOptions, isGlobal: true }), {
      imports: [ReportsModule],
    });
    try {
      const token = await mint(app, 'carol');
      const response = await app.inject({
        method: 'GET',
        url: '/reports',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ username: 'carol', via: 'token' });
    } finally {
      await app.close();
    }
  });

  it("false: a host's child module that does not import TokenModule uses AdminGuard (AccessModule is global)", async () => {
    const app = await startHost(TokenModule.forRoot({ ...hostOptions, isGlobal: false }), {
      imports: [HostAdminModule],
    });
    try {
      const get = (headers: Record<string, string>) =>
        app.inject({ method: 'GET', url: '/host-admin', headers });
      expect((await get({})).statusCode).toBe(401);
      expect((await get({ 'x-gateway-user': 'clerk' })).statusCode).toBe(403);
      const response = await get({ 'x-gateway-user': 'boss' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ admin: true });
    } finally {
      await app.close();
    }
  });

  it.each([
    ['false', () => TokenModule.forRoot({ ...hostOptions, isGlobal: false })],
    ['left out', () => TokenModule.forRootAsync({ useFactory: () => hostOptions })],
  ])("%s: the child module's TokenAuthenticationGuard stops the boot", async (_, tokenModule) => {
    const boot = Test.createTestingModule({
      imports: [hostModule(tokenModule(), { imports: [ReportsModule] })],
    }).compile();
    await expect(boot).rejects.toThrow(/TokenAuthenticationGuard[\s\S]*ReportsModule/);
  });
});

it("runs forRootAsync's factory once, for TokenModule and the access rules alike", async () => {
  let calls = 0;
  const app = await startHost(
    TokenModule.forRootAsync({
      useFactory: () => {
        calls += 1;
        return hostOptions;
      },
    }),
  );
  try {
    expect(calls).toBe(1);
    const admin = await app.inject({
      method: 'GET',
      url: '/reports/admin',
      headers: { 'x-gateway-user': 'boss' },
    });
    expect(admin.statusCode).toBe(200);
  } finally {
    await app.close();
  }
});
