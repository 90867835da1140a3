import { startTestApp, TestApp } from './support/test-app';

type Schema = {
  type?: string;
  description?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  $ref?: string;
  allOf?: Schema[];
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
    paths: Record<
      string,
      Record<
        string,
        {
          requestBody: { content: Record<string, { schema: Schema }> };
          responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
          security?: object[];
        }
      >
    >;
    components: { schemas: Record<string, Schema>; securitySchemes: Record<string, object> };
  };
  const resolve = (schema: Schema): Schema => {
    const ref = schema.$ref ?? schema.allOf?.[0]?.$ref;
    return ref ? doc.components.schemas[ref.split('/').pop()!] : schema;
  };
  const generate = () => doc.paths['/plugin/datafor-modeler/api/token/generate'].post;

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
    expect(payload.properties!.roles.items).toEqual({ type: 'string' });
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
    });
    expect(generate().security).toEqual(expect.arrayContaining([{ basic: [] }, { session: [] }]));
  });

  it('lists every endpoint of the contract', () => {
    const api = '/plugin/datafor-modeler/api';
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        `${api}/token/generate`,
        `${api}/token/update`,
        `${api}/token/list`,
        `${api}/token/content`,
        `${api}/token/delete`,
        `${api}/token/deleteBatch`,
        `${api}/token/revoke`,
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
      ].sort(),
    );
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
});
