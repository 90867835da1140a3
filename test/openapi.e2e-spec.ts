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
});
