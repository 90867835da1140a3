import { createHmac } from 'node:crypto';
import { Readiness } from '../src/app/health/readiness';
import { EXAMPLE_SECRET } from '../src/token/dto/update-token-config.dto';
import { TokenConfigService } from '../src/token/token-config.service';
import { MAX_LIVE_KEY_VERSIONS } from '../src/token/token.constants';
import { decodeToken, signHmacToken, verifyHmacToken } from './support/jwt';
import { OPERATION_IDS } from './support/operation-ids';
import { ADMIN_AUTH, basic, startTestApp, TestApp, TOKEN_API, USER_API } from './support/test-app';

type Schema = {
  type?: string;
  description?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  $ref?: string;
  allOf?: Schema[];
  example?: unknown;
};

type Envelope = { success: false; code: string; msg: string; errors?: object[] };
type Operation = {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  requestBody: {
    content: Record<string, { schema: Schema; examples?: Record<string, { value: unknown }> }>;
  };
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema: Schema; example?: Envelope }> }
  >;
  security?: object[];
};

/** The seed's table (the vendor page), field by field: type, required, description. */
const SEED_BODY: [string, string, boolean, string][] = [
  ['name', 'string', true, 'Name of the token.'],
  ['privateKey', 'string', true, 'Private key associated with the token.'],
  ['payload', 'object', true, 'The payload object containing user and role info.'],
];
const SEED_PAYLOAD: [string, string, boolean, string][] = [
  ['username', 'string', true, 'Username for token generation.'],
  ['name', 'string', false, "User's name."],
  ['roles', 'array', false, 'List of user roles.'],
  ['inituser', 'string', false, 'Initial user.'],
  ['password', 'string', false, 'User password.'],
  ['company', 'string', false, 'Company name.'],
  ['dept', 'string', false, 'Department name.'],
  ['email', 'string', false, 'Email address.'],
  ['description', 'string', false, 'Description.'],
  ['title', 'string', false, 'Title.'],
  ['dob', 'string', false, 'Date of birth.'],
  ['mobile', 'string', false, 'Mobile number.'],
];
const SEED_RESPONSE: [string, string, boolean, string][] = [
  ['success', 'boolean', true, 'Indicates if the token generation was successful (true or false).'],
  ['expire', 'integer', true, "The token's expiration time in seconds."],
  ['token', 'string', true, 'The generated token string.'],
];

/** What the page built by SwaggerModule.setup loads (besides swagger-ui-init.js, built from the document). */
const UI_ASSETS = [
  'favicon-16x16.png',
  'favicon-32x32.png',
  'swagger-ui-bundle.js',
  'swagger-ui-init.js',
  'swagger-ui-standalone-preset.js',
  'swagger-ui.css',
];

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: {
    servers?: { url: string }[];
    info: { license?: { name: string; url?: string } };
    tags?: { name: string; description?: string }[];
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, Schema>; securitySchemes: Record<string, object> };
  };
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
    );
  const resolve = (schema: Schema): Schema => {
    const ref = schema.$ref ?? schema.allOf?.[0]?.$ref;
    return ref ? doc.components.schemas[ref.split('/').pop()!] : schema;
  };
  const generate = () => doc.paths['/plugin/datafor-modeler/api/token/generate'].post;
  const update = () => doc.paths['/plugin/datafor-modeler/api/token/update'].post;
  /** The first example Swagger UI offers as an operation's JSON body. */
  const offeredBody = (operation: Operation) => {
    const examples = operation.requestBody.content['application/json'].examples!;
    return Object.values(examples)[0].value as Record<string, unknown>;
  };

  beforeAll(async () => {
    t = await startTestApp();
    const response = await t.inject({ method: 'GET', url: '/api-docs-json' });
    expect(response.statusCode).toBe(200);
    doc = response.json();
  });
  afterAll(() => t.close());

  const expectFields = (schema: Schema, table: [string, string, boolean, string][]) => {
    for (const [field, type, required, description] of table) {
      const property = schema.properties![field];
      expect({
        field,
        type: property.type ?? resolve(property).type,
        description: property.description,
      }).toEqual({ field, type, description });
      expect({ field, required: (schema.required ?? []).includes(field) }).toEqual({
        field,
        required,
      });
    }
  };

  it('describes the generate body field by field as the seed does', () => {
    const body = resolve(generate().requestBody.content['application/json'].schema);
    expectFields(body, SEED_BODY);
    const payload = resolve(body.properties!.payload);
    expectFields(payload, SEED_PAYLOAD);
    // The rules of IsStringList(64, 64), and no NUL (unsafe-input.ts): see openapi-rules.ts.
    expect(payload.properties!.roles.items).toEqual({
      type: 'string',
      minLength: 1,
      maxLength: 64,
      pattern: '^[^\\u0000]*$',
    });
  });

  it('says generate mints with the configurations it mints with: HS*, and RS*/ES* held by the service', () => {
    expect(generate().description).toMatch(
      /^Mints a signed JWT for payload\.username with an enabled configuration whose key the service holds: HS\*, or RS\*\/ES\* with "keyholder":"service"\./,
    );
  });

  it('accepts the form-urlencoded shape too', () => {
    expect(Object.keys(generate().requestBody.content)).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
    ]);
  });

  it('describes the 200 body as the seed does', () => {
    expectFields(
      resolve(generate().responses['200'].content!['application/json'].schema),
      SEED_RESPONSE,
    );
  });

  it('documents the 400, 401, 403, 404 and 409 answers with the error envelope', () => {
    for (const status of ['400', '401', '403', '404', '409']) {
      const schema = resolve(generate().responses[status].content!['application/json'].schema);
      expect({ status, required: schema.required }).toEqual({
        status,
        required: ['success', 'code', 'msg'],
      });
    }
  });

  it('offers HTTP Basic, the session cookie and the token (Bearer or query) as security schemes', () => {
    expect(doc.components.securitySchemes).toEqual({
      basic: expect.objectContaining({ type: 'http', scheme: 'basic' }),
      session: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'JSESSIONID' }),
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      'token-query': expect.objectContaining({ type: 'apiKey', in: 'query', name: 'token' }),
      'metrics-token': expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    expect(generate().security).toEqual(expect.arrayContaining([{ basic: [] }, { session: [] }]));
  });

  it('lists every endpoint of the contract', () => {
    const api = '/plugin/datafor-modeler/api';
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        `${api}/token/generate`,
        `${api}/token/update`,
        `${api}/audit/export`,
        `${api}/token/list`,
        `${api}/token/content`,
        `${api}/token/delete`,
        `${api}/token/deleteBatch`,
        `${api}/token/revoke`,
        `${api}/token/rotate`,
        `${api}/token/retire`,
        `${api}/token/verify`,
        `${api}/user/detail`,
        `${api}/user/insertOrUpdate`,
        `${api}/user/delete`,
        `${api}/user/list`,
        `${api}/roles/types`,
        `${api}/audit/list`,
        '/plugin/datafor/api/extension/auth/login',
        '/plugin/datafor/api/extension/auth/logout',
        '/health/live',
        '/health/ready',
        '/.well-known/jwks.json',
        '/metrics',
      ].sort(),
    );
  });

  it('names a server relative to the page, and the licence of LICENSE and package.json', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.info.license).toEqual({ name: 'MIT', url: 'https://opensource.org/license/mit' });
  });

  it('lists every tag the operations use, each with a description', () => {
    const used = [...new Set(operations().flatMap(({ operation }) => operation.tags ?? []))];
    expect(used.length).toBeGreaterThan(0);
    expect((doc.tags ?? []).map((tag) => tag.name).sort()).toEqual(used.sort());
    for (const tag of doc.tags!) {
      expect({ tag: tag.name, described: (tag.description ?? '').length > 0 }).toEqual({
        tag: tag.name,
        described: true,
      });
    }
  });

  it('names every operation with a unique, readable id, verb first', () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z]+$/);
    expect(new Set(ids).size).toBe(ids.length);
    const byRoute = operations().map(({ path, method, operation }) => [
      `${method} ${path}`,
      operation.operationId,
    ]);
    expect(Object.fromEntries(byRoute)).toEqual(OPERATION_IDS);
  });

  it('describes every operation and every answer, and the health answers with a schema', () => {
    for (const { path, method, operation } of operations()) {
      const described = (text?: string) => (text ?? '').trim().length > 0;
      expect({
        path,
        method,
        summary: described(operation.summary),
        description: described(operation.description),
      }).toEqual({ path, method, summary: true, description: true });
      for (const [status, response] of Object.entries(operation.responses)) {
        expect({ path, method, status, described: described(response.description) }).toEqual({
          path,
          method,
          status,
          described: true,
        });
      }
    }
    for (const path of ['/health/live', '/health/ready']) {
      const schema = doc.paths[path].get.responses['200'].content?.['application/json']?.schema;
      expect({ path, type: schema?.type }).toEqual({ path, type: 'object' });
    }
  });

  it('declares the 429, 500 and 503 envelopes on every operation but the metrics', () => {
    // Every controller route checks the credentials sent (throttled sign-ins, a database to ask),
    // even the public ones outside the rate limit. The metrics route has no guard at all.
    for (const { path, method, operation } of operations()) {
      if (path === '/metrics') continue;
      for (const status of ['429', '500', '503']) {
        const schema = operation.responses[status]?.content?.['application/json']?.schema;
        expect({ path, method, status, envelope: schema && resolve(schema).required }).toEqual({
          path,
          method,
          status,
          envelope: ['success', 'code', 'msg'],
        });
      }
    }
  });

  it('documents the Prometheus metrics: text/plain, their own tag, the token optional', () => {
    const metrics = doc.paths['/metrics'].get;
    expect(metrics.tags).toEqual(['metrics']);
    expect(Object.keys(metrics.responses['200'].content!)).toEqual(['text/plain']);
    expect(metrics.security).toEqual([{ 'metrics-token': [] }, {}]);
  });

  it('answers GET /metrics as documented: the Prometheus text format', async () => {
    const response = await t.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain;/);
    const example = doc.paths['/metrics'].get.responses['200'].content!['text/plain']
      .example as unknown as string;
    // The example's metric is one the service exposes, with the same help and type lines.
    for (const line of example.split('\n').filter((line) => line.startsWith('#')))
      expect(response.body).toContain(line);
  });

  it('says security: [] on the public operations, and marks credentials optional where they are', () => {
    const security = (path: string, method = 'get') => doc.paths[path][method].security;
    expect(security('/plugin/datafor/api/extension/auth/login', 'post')).toEqual([]);
    expect(security('/health/live')).toEqual([]);
    expect(security('/health/ready')).toEqual([]);
    expect(security('/plugin/datafor-modeler/api/roles/types')).toEqual([]);
    expect(security(`${USER_API}/detail`)).toEqual(expect.arrayContaining([{ basic: [] }, {}]));
    expect(security('/plugin/datafor/api/extension/auth/logout', 'post')).toEqual([
      { session: [] },
      {},
    ]);
    for (const { path, method, operation } of operations()) {
      expect({ path, method, security: Array.isArray(operation.security) }).toEqual({
        path,
        method,
        security: true,
      });
    }
  });

  it('documents a 4xx answer on every operation, each example with its own code', () => {
    for (const { path, method, operation } of operations()) {
      const errors = Object.keys(operation.responses).filter((status) => status >= '400');
      expect({ path, method, has4xx: errors.some((status) => status < '500') }).toEqual({
        path,
        method,
        has4xx: true,
      });
      for (const status of errors) {
        const example = operation.responses[status].content?.['application/json']?.example;
        expect({ path, method, status, code: example?.code, success: example?.success }).toEqual({
          path,
          method,
          status,
          code: status,
          success: false,
        });
      }
    }
  });

  describe('examples that are what the service answers', () => {
    const example = (path: string, status: number, method = 'post') =>
      doc.paths[path][method].responses[String(status)].content!['application/json'].example;
    const GENERATE = `${TOKEN_API}/generate`;
    const SECRET = EXAMPLE_SECRET;
    beforeAll(async () => {
      // ERP as update's offered example makes it.
      const updated = await t.admin('POST', `${TOKEN_API}/update`, offeredBody(update()));
      expect(updated.json()).toEqual({ success: true, msg: 'success' });
      await t.admin('POST', `${USER_API}/insertOrUpdate`, {
        username: 'reader',
        password: 'reader-password',
      });
    });

    const mint = { name: 'ERP', privateKey: SECRET, payload: { username: 'bob' } };
    const reader = basic('reader', 'reader-password');
    it.each([
      [400, { ...mint, payload: {} }, ADMIN_AUTH, 'application/json'],
      [401, mint, undefined, 'application/json'],
      [403, mint, reader, 'application/json'],
      [404, mint, ADMIN_AUTH, 'application/json'],
      [409, mint, ADMIN_AUTH, 'application/json'],
      [413, { ...mint, privateKey: 'x'.repeat(70_000) }, ADMIN_AUTH, 'application/json'],
      [415, '<name>ERP</name>', ADMIN_AUTH, 'application/xml'],
    ])('generate: the %i example is the answer', async (status, payload, authorization, type) => {
      // The 404 and 409 examples name ERP: it is gone, or disabled, for that one request.
      if (status === 404) await t.admin('POST', `${TOKEN_API}/delete`, { name: 'ERP' });
      if (status === 409)
        await t.admin('POST', `${TOKEN_API}/update`, { name: 'ERP', enable: '0' });
      try {
        const response = await t.inject({
          method: 'POST',
          url: GENERATE,
          payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
          headers: { 'content-type': type, ...(authorization ? { authorization } : {}) },
        });
        expect(response.statusCode).toBe(status);
        expect(response.json()).toEqual(example(GENERATE, status));
      } finally {
        await t.admin('POST', `${TOKEN_API}/update`, { name: 'ERP', secret: SECRET, enable: '1' });
      }
    });

    it('the public endpoints: 401 to wrong credentials, as their examples say', async () => {
      for (const [path, method] of [
        ['/plugin/datafor-modeler/api/roles/types', 'get'],
        ['/health/live', 'get'],
        [`${USER_API}/detail`, 'get'],
      ] as const) {
        const response = await t.inject({
          method: 'GET',
          url: path,
          headers: { authorization: basic('reader', 'wrong') },
        });
        expect({ path, status: response.statusCode }).toEqual({ path, status: 401 });
        expect(response.json()).toEqual(example(path, 401, method));
      }
    });

    it('logout: the 403 example is the answer to a logout posted from another site', async () => {
      const logout = '/plugin/datafor/api/extension/auth/logout';
      const response = await t.inject({
        method: 'POST',
        url: logout,
        headers: { origin: 'https://elsewhere.example' },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toEqual(example(logout, 403));
    });

    it('user/delete: the 404 and 409 examples are the answers', async () => {
      const missing = await t.admin('POST', `${USER_API}/delete`, { username: 'alice' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toEqual(example(`${USER_API}/delete`, 404));
      const last = await t.admin('POST', `${USER_API}/delete`, { username: 'admin' });
      expect(last.statusCode).toBe(409);
      expect(last.json()).toEqual(example(`${USER_API}/delete`, 409));
    });

    it('token/rotate: the 409 example is the answer to one rotation past the live versions', async () => {
      const rotate = `${TOKEN_API}/rotate`;
      const next = (i: number) => ({ name: 'ERP', secret: `${SECRET}-next-${i}` });
      try {
        for (let i = 1; i < MAX_LIVE_KEY_VERSIONS; i++)
          expect((await t.admin('POST', rotate, next(i))).statusCode).toBe(200);
        const response = await t.admin('POST', rotate, next(MAX_LIVE_KEY_VERSIONS));
        expect(response.statusCode).toBe(409);
        expect(response.json()).toEqual(example(rotate, 409));
      } finally {
        await t.admin('POST', `${TOKEN_API}/update`, { name: 'ERP', secret: SECRET, enable: '1' });
      }
    });

    it('mints with the offered generate example: for alice, a reader, without placeholder claims', async () => {
      const value = offeredBody(generate()) as {
        privateKey: string;
        payload: Record<string, unknown>;
      };
      expect(value.privateKey).toBe(offeredBody(update()).secret);
      expect(value.payload).toMatchObject({ username: 'alice', roles: ['SYS_Reader', 'Sales'] });
      expect(Object.keys(value.payload)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(inituser|password|additionalProp\d)$/)]),
      );
      expect(JSON.stringify(value)).not.toMatch(/"string"|admin/i);
      const response = await t.admin('POST', GENERATE, value);
      expect(response.statusCode).toBe(200);
      const { claims } = verifyHmacToken(response.json().token, SECRET);
      expect(claims).toMatchObject({ ERP: 'alice', email: 'alice@example.com' });
      expect(Object.keys(claims)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(inituser|password|additionalProp\d)$/)]),
      );
      const alice = (await t.admin('GET', `${USER_API}/list`))
        .json()
        .data.find((user: { username: string }) => user.username === 'alice');
      expect(alice.usertype).toBe('SYS_Reader');
    });

    it('documents the form shape as its flat fields, and the service takes them', async () => {
      const form = resolve(
        generate().requestBody.content['application/x-www-form-urlencoded'].schema,
      );
      expect(Object.keys(form.properties!)).toEqual(
        expect.arrayContaining(['name', 'privateKey', 'username', 'roles', 'email', 'company']),
      );
      expect(form.properties!.payload).toBeUndefined();
      expect(form.required).toEqual(['name', 'privateKey', 'username']);
      const fields = new URLSearchParams();
      for (const [field, property] of Object.entries(form.properties!)) {
        if (property.example === undefined) continue;
        for (const item of [property.example].flat()) fields.append(field, String(item));
      }
      expect(fields.get('privateKey')).toBe(SECRET);
      const response = await t.inject({
        method: 'POST',
        url: GENERATE,
        payload: fields.toString(),
        headers: {
          authorization: ADMIN_AUTH,
          'content-type': 'application/x-www-form-urlencoded',
        },
      });
      expect(response.statusCode).toBe(200);
      const { claims } = verifyHmacToken(response.json().token, SECRET);
      expect(claims).toMatchObject({ ERP: 'alice', roles: ['SYS_Reader', 'Sales'] });
    });

    it('token/list: the 500 example is the answer to an unexpected failure', async () => {
      const configs = t.app.get(TokenConfigService);
      const list = configs.list;
      configs.list = () => Promise.reject(new Error('an unexpected failure'));
      try {
        const response = await t.admin('GET', `${TOKEN_API}/list`);
        expect(response.statusCode).toBe(500);
        expect(response.json()).toEqual(example(`${TOKEN_API}/list`, 500, 'get'));
      } finally {
        configs.list = list;
      }
    });

    it('health: the 200 examples are the answers', async () => {
      for (const path of ['/health/live', '/health/ready']) {
        const response = await t.inject({ method: 'GET', url: path });
        expect({ path, status: response.statusCode }).toEqual({ path, status: 200 });
        const content = doc.paths[path].get.responses['200'].content!['application/json'];
        // The database's ping time varies from one answer to the next.
        const expected = JSON.parse(JSON.stringify(content.schema.example), (key, value) =>
          key === 'responseTime' ? expect.any(Number) : value,
        );
        expect(response.json()).toEqual(expected);
      }
    });

    it('token/verify: exp and iat are echoed as the token has them, fractions too, as declared', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = signHmacToken(
        { alg: 'HS256', typ: 'JWT', kid: 'ERP' },
        { ERP: 'alice', iat: now - 0.5, exp: now + 600.25 },
        SECRET,
      );
      const response = await t.admin('POST', `${TOKEN_API}/verify`, { token });
      expect(response.json()).toMatchObject({ active: true, iat: now - 0.5, exp: now + 600.25 });
      const schema = resolve(
        doc.paths[`${TOKEN_API}/verify`].post.responses['200'].content!['application/json'].schema,
      );
      expect([schema.properties!.exp.type, schema.properties!.iat.type]).toEqual([
        'number',
        'number',
      ]);
    });

    it('health/ready: the 503 example is the answer once shutdown has begun', async () => {
      t.app.get(Readiness).drain();
      const response = await t.inject({ method: 'GET', url: '/health/ready' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual(example('/health/ready', 503, 'get'));
    });
  });

  it('serves Swagger UI at /api-docs', async () => {
    const response = await t.inject({ method: 'GET', url: '/api-docs' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.body).toContain('swagger');
  });

  it('serves Swagger UI at /api-docs with the files its page asks for', async () => {
    const page = await t.inject({ method: 'GET', url: '/api-docs' });
    expect(page.statusCode).toBe(200);
    const assets = [...page.body.matchAll(/(?:href|src)="\.\/api-docs\/([^"]+)"/g)].map(
      (m) => m[1],
    );
    expect(assets.sort()).toEqual(UI_ASSETS);
    for (const asset of assets) {
      const response = await t.inject({ method: 'GET', url: `/api-docs/${asset}` });
      expect({ asset, status: response.statusCode }).toEqual({ asset, status: 200 });
    }
    const init = await t.inject({ method: 'GET', url: '/api-docs/swagger-ui-init.js' });
    expect(init.body).toContain('/plugin/datafor-modeler/api/token/generate');
    expect((await t.inject({ method: 'GET', url: '/api-docs/' })).statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: '/api-docs-json' })).statusCode).toBe(200);
  });

  it.each([
    'package.json',
    'README.md',
    'LICENSE',
    'NOTICE',
    'swagger-ui-bundle.js.map',
    'swagger-ui.css.map',
    'swagger-ui.js',
    'swagger-ui-es-bundle.js',
    'swagger-initializer.js',
    'index.css',
    'oauth2-redirect.html',
    'absolute-path.js',
    'log.bundle-sizes.swagger-ui.txt',
    'api-docs/swagger-ui.css',
    'api-docs/package.json',
    '%70ackage.json',
    'no-such-file.js',
  ])('answers 404 with the envelope for /api-docs/%s, which the UI does not need', async (file) => {
    const response = await t.inject({ method: 'GET', url: `/api-docs/${file}` });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ success: false, code: '404' });
  });
});

describe('the rate limit in the OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_MAX: '1' } });
  });
  afterAll(() => t.close());

  it('declares 429 on every operation the rate limit answers 429', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/api-docs-json' })).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    // The counter is one per client address for every limited route: this request spends it.
    await t.inject({ method: 'GET', url: `${TOKEN_API}/list` });
    const limited: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const response = await t.inject({ method: method.toUpperCase() as 'GET', url: path });
        if (response.statusCode !== 429) continue;
        limited.push(`${method} ${path}`);
        expect({ path, method, declared: '429' in operation.responses }).toEqual({
          path,
          method,
          declared: true,
        });
      }
    }
    expect(limited).toEqual(
      expect.arrayContaining([
        `post ${TOKEN_API}/generate`,
        `get ${USER_API}/list`,
        `post ${USER_API}/insertOrUpdate`,
        'get /plugin/datafor-modeler/api/audit/list',
        'get /plugin/datafor-modeler/api/audit/export',
      ]),
    );
    expect(limited).not.toContain('get /health/ready');
  });
});

/** The instant of the generate answer's example token: 2026-01-01T00:00:00Z. */
const EXAMPLE_INSTANT = 1_767_225_600;

describe("generate's 200 example token", () => {
  let t: TestApp;
  let example: string;
  let minted: string;
  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => EXAMPLE_INSTANT * 1000 } });
    const doc = (await t.inject({ method: 'GET', url: '/api-docs-json' })).json();
    const post = (path: string) => doc.paths[`${TOKEN_API}/${path}`].post;
    const offered = (path: string) =>
      Object.values(
        post(path).requestBody.content['application/json'].examples as Record<
          string,
          { value: object }
        >,
      )[0].value;
    const schema = post('generate').responses['200'].content['application/json'].schema;
    const response = doc.components.schemas[schema.$ref.split('/').pop()];
    example = response.properties.token.example;
    // The service mints with the offered bodies at the example's instant.
    expect((await t.admin('POST', `${TOKEN_API}/update`, offered('update'))).statusCode).toBe(200);
    const generated = await t.admin('POST', `${TOKEN_API}/generate`, offered('generate'));
    expect(generated.statusCode).toBe(200);
    minted = generated.json().token;
  });
  afterAll(() => t.close());

  it('is signed with the example secret (checked with node:crypto) and has the claims of a minted token', () => {
    const { header, claims } = verifyHmacToken(example, EXAMPLE_SECRET);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'ERP' });
    expect(claims).toEqual({
      ERP: 'alice',
      name: 'Alice Martin',
      email: 'alice@example.com',
      roles: ['SYS_Reader', 'Sales'],
      company: 'Example Trading Ltd',
      dept: 'Sales',
      iat: EXAMPLE_INSTANT,
      exp: EXAMPLE_INSTANT + 86400,
      jti: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
    });
  });

  it('is, byte for byte, what the service mints at that instant from the offered bodies (its jti aside)', () => {
    const [exampleHeader, examplePayload] = example.split('.');
    const [mintedHeader] = minted.split('.');
    expect(exampleHeader).toBe(mintedHeader);
    // The minted claims with the example's jti in their place, serialised as the signer does.
    const { jti } = decodeToken(example).claims;
    const claims = { ...decodeToken(minted).claims, jti };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const body = `${mintedHeader}.${payload}`;
    const signature = createHmac('sha256', EXAMPLE_SECRET).update(body).digest('base64url');
    expect(example).toBe(`${body}.${signature}`);
    expect(examplePayload).toBe(payload);
  });
});

describe('Swagger UI under BASE_PATH', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { BASE_PATH: '/datafor' } });
  });
  afterAll(() => t.close());

  it('serves the page, its files and the document under the prefix, and nothing else of swagger-ui-dist', async () => {
    expect((await t.inject({ method: 'GET', url: '/datafor/api-docs' })).statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: '/datafor/api-docs-json' })).statusCode).toBe(200);
    for (const asset of UI_ASSETS) {
      const response = await t.inject({ method: 'GET', url: `/datafor/api-docs/${asset}` });
      expect({ asset, status: response.statusCode }).toEqual({ asset, status: 200 });
    }
    for (const file of ['package.json', 'api-docs/package.json', 'api-docs/swagger-ui.css.map']) {
      const response = await t.inject({ method: 'GET', url: `/datafor/api-docs/${file}` });
      expect({ file, status: response.statusCode }).toEqual({ file, status: 404 });
      expect(response.json()).toMatchObject({ success: false, code: '404' });
    }
  });

  it('serves the JWKS and health at the root, outside the prefix, as their consumers expect', async () => {
    const jwks = await t.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(jwks.statusCode).toBe(200);
    expect(jwks.json()).toEqual({ keys: [] });
    expect((await t.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    const prefixed = await t.inject({ method: 'GET', url: '/datafor/.well-known/jwks.json' });
    expect(prefixed.statusCode).toBe(404);
  });
});
