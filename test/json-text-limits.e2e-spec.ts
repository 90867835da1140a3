import type { LightMyRequestResponse } from 'fastify';
import { ADMIN_AUTH, startTestApp, TestApp, TOKEN_API, USER_API } from './support/test-app';

const SECRET = 'json-text-secret-0123456789-abcdefghij';
/** Deep enough to overflow class-transformer's recursion, still well under the 64 KiB body limit. */
const DEPTH = 6000;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

type Shape = 'json' | 'form';

/**
 * A form and some JSON clients send `payload`, `fieldmap`, `roles` and `initroles` as JSON text: the
 * text gets the limits a JSON body has (nesting, Object.prototype names, NUL) and nothing is stored.
 */
describe('values sent as JSON text', () => {
  let t: TestApp;

  /** A form body sent as written: the JSON text in it needs no escaping for Fastify's form parser. */
  const post = (url: string, shape: Shape, fields: Record<string, string>) =>
    t.inject({
      method: 'POST',
      url,
      headers: {
        authorization: ADMIN_AUTH,
        'content-type': shape === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
      },
      payload:
        shape === 'json'
          ? JSON.stringify(fields)
          : Object.entries(fields)
              .map(([key, value]) => `${key}=${value}`)
              .join('&'),
    });
  const expectRefused = (response: LightMyRequestResponse, field: RegExp, message: string) => {
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body).toMatchObject({ success: false, code: '400', msg: expect.any(String) });
    expect(body.errors).toEqual([{ field: expect.stringMatching(field), message }]);
  };
  const usernames = async () =>
    (await t.admin('GET', `${USER_API}/list`))
      .json()
      .data.map((u: { username: string }) => u.username);
  const configNames = async () =>
    (await t.admin('GET', `${TOKEN_API}/list`)).json().data.map((c: { name: string }) => c.name);
  const mint = (shape: Shape, payload: string) =>
    post(`${TOKEN_API}/generate`, shape, { name: 'ERP', privateKey: SECRET, payload });

  beforeAll(async () => {
    t = await startTestApp();
    const response = await t.admin('POST', `${TOKEN_API}/update`, {
      name: 'ERP',
      secret: SECRET,
      enable: '1',
    });
    expect(response.statusCode).toBe(200);
  });
  afterAll(() => t.close());

  describe.each<Shape>(['json', 'form'])('in a %s body', (shape) => {
    it(`refuses a payload nested ${DEPTH} levels deep with 400, and creates no user`, async () => {
      const response = await mint(shape, `{"username":"deep-${shape}","a":${deepObject(DEPTH)}}`);
      expectRefused(response, /^payload(\.a)+$/, 'is nested more than 8 levels deep');
      expect(await usernames()).not.toContain(`deep-${shape}`);
    });

    it(`refuses a fieldmap nested ${DEPTH} levels deep with 400, and stores no configuration`, async () => {
      const response = await post(`${TOKEN_API}/update`, shape, {
        name: `DEEP-${shape}`,
        secret: SECRET,
        fieldmap: `{"username":"ERP","a":${deepObject(DEPTH)}}`,
      });
      expectRefused(response, /^fieldmap(\.a)+$/, 'is nested more than 8 levels deep');
      expect(await configNames()).not.toContain(`DEEP-${shape}`);
    });

    it.each(['__proto__', 'constructor', 'toString'])(
      'refuses a payload and a fieldmap holding a key named %s',
      async (key) => {
        const minted = await mint(shape, `{"username":"proto-${shape}","${key}":{"x":"1"}}`);
        expectRefused(minted, new RegExp(`^payload\\.${key}$`), 'is not a known field');
        expect(await usernames()).not.toContain(`proto-${shape}`);
        const updated = await post(`${TOKEN_API}/update`, shape, {
          name: `PROTO-${shape}`,
          secret: SECRET,
          fieldmap: `{"username":"ERP","${key}":"x"}`,
        });
        expectRefused(updated, new RegExp(`^fieldmap\\.${key}$`), 'is not a known field');
        expect(await configNames()).not.toContain(`PROTO-${shape}`);
      },
    );

    it('refuses a NUL character escaped inside the JSON text of payload, roles and initroles', async () => {
      const nul = '\\u0000';
      expectRefused(
        await mint(shape, `{"username":"nul-${shape}","dept":"Sa${nul}les"}`),
        /^payload\.dept$/,
        'must not contain NUL characters',
      );
      expectRefused(
        // roles as JSON text inside payload's JSON text: the escape is undone by the second parse.
        await mint(shape, `{"username":"nul-${shape}","roles":"[\\"Sa\\${nul}les\\"]"}`),
        /^payload\.roles\[0\]$/,
        'must not contain NUL characters',
      );
      expect(await usernames()).not.toContain(`nul-${shape}`);
      expectRefused(
        await post(`${TOKEN_API}/update`, shape, {
          name: `NUL-${shape}`,
          secret: SECRET,
          initroles: `["SYS_Reader","Sa${nul}les"]`,
        }),
        /^initroles\[1\]$/,
        'must not contain NUL characters',
      );
      expect(await configNames()).not.toContain(`NUL-${shape}`);
      expectRefused(
        await post(`${USER_API}/insertOrUpdate`, shape, {
          username: `nul-${shape}`,
          password: 'nul-password-1',
          roles: `["Sa${nul}les"]`,
        }),
        /^roles\[0\]$/,
        'must not contain NUL characters',
      );
      expect(await usernames()).not.toContain(`nul-${shape}`);
    });
  });

  it('still mints with a payload, roles and a fieldmap sent as JSON text within the limits', async () => {
    const updated = await post(`${TOKEN_API}/update`, 'form', {
      name: 'TEXT',
      secret: SECRET,
      enable: '1',
      fieldmap: '{"username":"user","name":"display"}',
      initroles: '["SYS_Reader","Sales"]',
    });
    expect(updated.statusCode).toBe(200);
    const ok = await post(`${TOKEN_API}/generate`, 'json', {
      name: 'TEXT',
      privateKey: SECRET,
      payload: '{"username":"texter","name":"Tex","roles":"[\\"Manager\\"]"}',
    });
    expect(ok.statusCode).toBe(200);
    const user = (await t.admin('GET', `${USER_API}/list`))
      .json()
      .data.find((u: { username: string }) => u.username === 'texter');
    expect(user).toMatchObject({
      name: 'Tex',
      roles: expect.arrayContaining(['Sales', 'Manager']),
    });
  });
});
