import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { signHmacToken } from './support/jwt';
import {
  ADMIN,
  ADMIN_AUTH,
  basic,
  SESSION_API,
  startTestApp,
  TestApp,
  TOKEN_API,
  USER_API,
} from './support/test-app';

/**
 * Property-based fuzzing (fast-check) of every endpoint's body, query and headers, on one app:
 * - no 5xx, ever; a 2xx answers {success:true, ...};
 * - every 4xx carries the envelope {success:false, code:String(status), msg, errors?} (a 401 with
 *   WWW-Authenticate: Basic realm="datafor");
 * - no response carries a fixture secret, a fixture password or a password hash;
 * - nothing stored changes after a refused request, but for the audit rows of the sign-ins it
 *   attempted (auth.basic / session.login, success or failure, for the username it presented: the
 *   service audits every password check, and a Basic sign-in may succeed on a request refused later);
 * - a valid token for a new user, on a request refused all the same, creates nobody.
 * Accepted requests may change the store (that is what they are for); when one breaks a fixture the
 * next runs rely on (the admin's password, the ERP configuration...), a second Administrator that no
 * request can name puts it back. On failure fast-check prints the seed, the path and the shrunk
 * request (the inject options: method, url, headers, payload), and the error says what came back.
 */

const SECRET = 'fuzz-fixture-secret-0123456789-abcdefghi';
const READER = { username: 'reader', password: 'reader-password-fuzz-1' };
/** Heals the fixtures; no generator ever names it, so no fuzzed request can change it. */
const KEEPER = { username: 'fuzz-keeper-7c1e', password: 'keeper-password-fuzz-1' };
const SECRETS = [SECRET, ADMIN.password, READER.password, KEEPER.password];
const BASIC_CHALLENGE = 'Basic realm="datafor"';
const MASK = '************';
/** Replaced at inject time by the cookie of a live admin session opened in the fixtures. */
const LIVE_SESSION = 'JSESSIONID=<live admin session>';

type Method = 'GET' | 'POST';
interface FuzzRequest {
  method: Method;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}
interface Body {
  payload: string;
  contentType?: string;
}
type Snapshot = Record<string, Record<string, unknown>[]>;

// ---------------------------------------------------------------------------------------------
// Values: strings (unicode, control characters, very long), numbers, booleans, null, arrays, objects

const CONTROL = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u202e',
  '\ufeff',
  '\ud800',
  '\udfff',
];
const TRICKY = [
  '',
  ' ',
  'null',
  'undefined',
  'NaN',
  'true',
  '0',
  '-1',
  '[object Object]',
  MASK,
  "' OR '1'='1",
  '"; DROP TABLE users; --',
  '../../etc/passwd',
  '${7*7}',
  '<script>alert(1)</script>',
  '%00',
  'a:b',
  'a b',
  '__proto__',
];
const OBJECT_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'prototype',
  'isAdmin',
  'length',
  '',
  ' ',
  '0',
];

const long = fc
  .tuple(
    fc.constantFrom('a', 'é', '\u{1f600}', '\u0000', ':', ' ', '%'),
    fc.constantFrom(65, 129, 257, 1025, 8193, 70_000),
  )
  .map(([char, count]) => char.repeat(count));
const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.constantFrom(...CONTROL, 'a', 'Z', '9', ':', ' ', '%', '&', '=', '"', '\\', '.'),
      maxLength: 16,
    }),
  },
  { weight: 2, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 1, arbitrary: long },
);
const number: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1, 1.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, 86400, 2592001),
);
const scalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 2, arbitrary: number },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);
const objectKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...OBJECT_KEYS),
  fc.string({ maxLength: 10 }),
);
const wild: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(objectKey, scalar, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
/** Mostly a value from the field's own pool (to get past validation), sometimes anything at all. */
const field = (...pool: unknown[]): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 7, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: wild });
const fieldOf = (arbitrary: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 7, arbitrary }, { weight: 1, arbitrary: wild });
/** Extra keys beside the real ones: usually none, else Object.prototype names and random ones. */
const extraKeys = fc.oneof(
  { weight: 5, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.dictionary(objectKey, wild, { minKeys: 1, maxKeys: 3 }) },
);

/** Without the key `drop` (a required field left out, now and then). */
const without = (value: Record<string, unknown>, drop: string | undefined) =>
  Object.fromEntries(Object.entries(value).filter(([key]) => key !== drop));
const dropOne = (required: string[]): fc.Arbitrary<string | undefined> =>
  required.length === 0
    ? fc.constant(undefined)
    : fc.oneof(
        { weight: 7, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom(...required) },
      );

const optionalKeys = (model: Record<string, unknown>, required: string[]) =>
  Object.keys(model).filter((key) => !required.includes(key));
/** The required fields of `model`, and at most `most` of the others. */
const someOf = (
  model: Record<string, fc.Arbitrary<unknown>>,
  required: string[] = [],
  most = 3,
): fc.Arbitrary<Record<string, unknown>> =>
  fc
    .tuple(
      fc.record(model),
      fc.subarray(optionalKeys(model, required), {
        maxLength: Math.min(most, optionalKeys(model, required).length),
      }),
    )
    .map(([all, chosen]) =>
      Object.fromEntries(
        Object.entries(all).filter(([key]) => required.includes(key) || chosen.includes(key)),
      ),
    );

/** The endpoint's fields (the required ones usually there, a few others) plus extra keys. */
const withExtras = (model: Record<string, fc.Arbitrary<unknown>>, required: string[] = []) =>
  fc
    .tuple(someOf(model, required), extraKeys, dropOne(required))
    .map(([fields, extras, drop]) => ({ ...without(fields, drop), ...extras }));

/** Header values as a real HTTP parser would deliver them: visible ASCII, spaces, obs-text. */
const headerText = fc
  .string({
    unit: fc
      .oneof(
        { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
        { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
      )
      .map((code) => String.fromCharCode(code)),
    maxLength: 40,
  })
  .map((value) => value.trim());

// ---------------------------------------------------------------------------------------------
// Fields of the contract, with pools of plausible values

const CONFIG_NAMES = ['ERP', 'ERP', 'ERP', 'erp', 'FUZZ', 'Fuzz_2', 'fz-3', 'NOPE', 'E R P', ''];
const USERNAMES = ['reader', 'admin', 'fuzzer', 'Fuzzer2', 'sso.user@example.com', 'nobody'];
const PASSWORDS = [
  'fuzz-password-1',
  'fuzz-password-1',
  ADMIN.password,
  READER.password,
  'short',
  '',
];
const USER_TYPES = ['SYS_Reader', 'SYS_CREATOR', 'sys_creator', 'Administrator', 'Superuser'];
const ROLE_NAMES = [...USER_TYPES, 'administrator', 'Manager', 'Sales', ''];
const FLAGS = ['1', '1', '0', '0', 1, 0, true, 'yes'];
const profile = field(
  'Sales',
  'Fuzz Co',
  '1990-01-01',
  '+1 555 0100',
  'Grüße \u{1f600}',
  'x'.repeat(256),
  'x'.repeat(257),
  '',
);

const roles = fc.oneof(
  { weight: 4, arbitrary: fc.subarray(['Manager', 'Sales', 'SYS_CREATOR'], { maxLength: 2 }) },
  { weight: 1, arbitrary: fc.array(fieldOf(fc.constantFrom(...ROLE_NAMES)), { maxLength: 4 }) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.constantFrom(...ROLE_NAMES), { maxLength: 3 })
      .map((list) => list.join('&')),
  },
);
const now = () => Math.floor(Date.now() / 1000);
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Usernames a token signed with the fixture secret may name: users that exist (see the SSO property). */
const EXISTING_USERS = ['admin', 'reader'];

const fuzzedJwtHeader = someOf({
  alg: field('HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'none', 'NONE', 'hs256'),
  typ: field('JWT', 'jwt'),
  kid: field('ERP', 'erp', 'NOPE', '../ERP', 'FUZZ'),
});
const jwtHeader = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom({ alg: 'HS256', typ: 'JWT', kid: 'ERP' }, { alg: 'HS256' }),
  },
  { weight: 2, arbitrary: fuzzedJwtHeader },
);
const timeClaim = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.integer({ min: -200_000, max: 200_000 }).map((offset) => now() + offset),
  },
  { weight: 1, arbitrary: wild },
);
/** Claims whose username claims name existing users only. */
const claimsOf = (username: fc.Arbitrary<unknown>) =>
  fc
    .tuple(
      fc.oneof(
        { weight: 4, arbitrary: username.map((name) => ({ ERP: name, exp: now() + 86400 })) },
        { weight: 1, arbitrary: fc.constant({}) },
      ),
      someOf(
        {
          ERP: username,
          uid: username,
          exp: timeClaim,
          nbf: timeClaim,
          iat: timeClaim,
          jti: fieldOf(fc.uuid()),
          roles: roles,
          name: profile,
        },
        [],
        4,
      ),
    )
    .map(([base, claims]) => ({ ...base, ...claims }));
/** Something that may or may not be a JWT; those signed with the fixture secret name existing users. */
const jwtish: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(jwtHeader, claimsOf(fc.constantFrom(...EXISTING_USERS)))
      .map(([header, claims]) => signHmacToken(header, claims, SECRET)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        jwtHeader,
        claimsOf(fieldOf(fc.constantFrom(...USERNAMES))),
        fc.constantFrom('abcd', `${SECRET}x`, SECRET.toUpperCase(), ''),
      )
      .map(([header, claims, key]) => signHmacToken(header, claims, key)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(jwtHeader, claimsOf(fieldOf(fc.constantFrom(...USERNAMES))), fc.base64String())
      .map(
        ([header, claims, signature]) => `${base64url(header)}.${base64url(claims)}.${signature}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.base64String({ maxLength: 24 }), { maxLength: 5 })
      .map((parts) => parts.join('.')),
  },
  { weight: 1, arbitrary: fc.constantFrom('', '.', '..', 'a.b.c', 'eyJ.eyJ.x', 'null') },
  { weight: 1, arbitrary: headerText },
);

/** Minting gets past validation most of the time: the fixture's name and secret, mostly. */
const tokenFields = {
  name: field('ERP', 'ERP', 'ERP', ...CONFIG_NAMES),
  privateKey: field(SECRET, SECRET, SECRET, SECRET, 'abcd', SECRET.toUpperCase(), `${SECRET} `, ''),
};
const payloadRecord = fc.tuple(
  withExtras(
    {
      username: field(...USERNAMES),
      name: field('Fuzz User', ''),
      roles,
      inituser: field('1', '0', 'string'),
      password: field(...PASSWORDS),
      company: profile,
      dept: profile,
      email: field('fuzz@example.com', 'not an email'),
      description: profile,
      title: profile,
      dob: profile,
      mobile: profile,
      note: field('a note', 42, 1.5, true, ['a', 'b'], 'x'.repeat(1025)),
    },
    ['username'],
  ),
  fc.oneof(
    { weight: 4, arbitrary: extraKeys },
    {
      weight: 1,
      arbitrary: fc.dictionary(
        fc.constantFrom('exp', 'iat', 'nbf', 'jti', 'iss', 'aud', 'sub', 'ERP', 'uid'),
        wild,
        { minKeys: 1, maxKeys: 2 },
      ),
    },
  ),
);

interface FieldsSpec {
  /** The body as an object of the contract's fields (with extra keys), or an array for deleteBatch. */
  value: fc.Arbitrary<unknown>;
  /** The flat form of the same fields, where it differs (generate's older shape). */
  form?: fc.Arbitrary<unknown>;
}

const GENERATE_FIELDS: FieldsSpec = {
  value: withExtras(
    {
      ...tokenFields,
      payload: fc.oneof(
        { weight: 6, arbitrary: payloadRecord.map(([p, extras]) => ({ ...p, ...extras })) },
        { weight: 1, arbitrary: wild },
      ),
    },
    ['name', 'privateKey', 'payload'],
  ),
  // The older flat shape: `name` is the configuration's, so the payload's own `name` stays out.
  form: fc
    .tuple(withExtras(tokenFields, ['name', 'privateKey']), payloadRecord)
    .map(([fields, [payload, extras]]) => ({
      ...without(payload, 'name'),
      ...extras,
      ...fields,
    })),
};
const UPDATE_FIELDS: FieldsSpec = {
  value: withExtras(
    {
      name: field(...CONFIG_NAMES),
      token_name: field('token', 'token', 't', 'ticket', 'my token', ''),
      secret: field(SECRET, 'abcd', MASK, 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE', ''),
      expire: field(1, 60, '60', 86400, 86400, 2592000, 2592001, 0, -1, 1.5),
      fieldmap: fieldOf(
        someOf(
          {
            username: field('uid', 'ERP', 'uid', 'ERP', 'exp', 'sub', '', '__proto__'),
            name: field('fullName', 'uid'),
            email: field('mail'),
          },
          ['username'],
        ),
      ),
      algorithm: field('HS256', 'hs384', 'HS512', 'RS256', 'ES256', 'none'),
      enable: field(...FLAGS),
      inituser: field(...FLAGS),
      initroles: roles,
      initpwd: field('initial-password-1', 'short', MASK, null),
      createdDate: wild,
      lastModifiedDate: wild,
      creatorId: wild,
    },
    ['name'],
  ),
};
const NAME_FIELDS: FieldsSpec = { value: withExtras({ name: field(...CONFIG_NAMES) }, ['name']) };
const BATCH_FIELDS: FieldsSpec = {
  value: fc.oneof(
    { weight: 4, arbitrary: fc.array(field(...CONFIG_NAMES), { maxLength: 5 }) },
    { weight: 1, arbitrary: withExtras({ names: fc.array(field(...CONFIG_NAMES)) }) },
  ),
};
const REVOKE_FIELDS: FieldsSpec = {
  value: withExtras({
    jti: fieldOf(fc.uuid()),
    name: field(...CONFIG_NAMES),
    before: field(0, now(), now() + 60, '1700000000', 253402300800, -1, 1.5),
  }),
};
const VERIFY_FIELDS: FieldsSpec = { value: withExtras({ token: fieldOf(jwtish) }, ['token']) };
const UPSERT_USER_FIELDS: FieldsSpec = {
  value: withExtras(
    {
      username: field(...USERNAMES),
      password: field(...PASSWORDS),
      name: field('Fuzz User'),
      email: field('fuzz@example.com'),
      mobile: profile,
      dept: profile,
      title: profile,
      company: profile,
      dob: profile,
      description: profile,
      usertype: field(...USER_TYPES),
      roles,
      enabled: field(...FLAGS),
    },
    ['username'],
  ),
};
const USERNAME_FIELDS: FieldsSpec = {
  value: withExtras({ username: field(...USERNAMES) }, ['username']),
};
/** Sign-ins: the fixtures' own pairs half of the time, any pairing of the pools otherwise. */
const LOGIN_FIELDS: FieldsSpec = {
  value: fc.oneof(
    withExtras({ username: field(...USERNAMES), password: field(...PASSWORDS) }, [
      'username',
      'password',
    ]),
    fc
      .tuple(
        fc.constantFrom(
          { username: ADMIN.username, password: ADMIN.password },
          { username: READER.username, password: READER.password },
        ),
        extraKeys,
      )
      .map(([pair, extras]) => ({ ...pair, ...extras })),
  ),
};

// ---------------------------------------------------------------------------------------------
// Bodies: JSON, forms, raw strings under any content type

const JSON_TYPES = [
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json; charset=utf-16',
  'application/json;charset=latin1',
  'application/json, text/plain',
  'application/problem+json',
];
const OTHER_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-16',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '',
  '*/*',
  ';',
  'application/json; charset=',
];
const formText = (value: unknown) =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? '');

const jsonBody = (value: fc.Arbitrary<unknown>): fc.Arbitrary<Body> =>
  fc
    .tuple(
      value,
      fc.oneof(
        { weight: 8, arbitrary: fc.constant('application/json') },
        { weight: 1, arbitrary: fc.constantFrom(...JSON_TYPES) },
      ),
    )
    .map(([body, contentType]) => ({ payload: JSON.stringify(body) ?? '', contentType }));

const formBody = (value: fc.Arbitrary<unknown>): fc.Arbitrary<Body> =>
  fc
    .tuple(
      value,
      fc.boolean(),
      fc.array(fc.tuple(objectKey, text), { maxLength: 2 }),
      fc.oneof(
        { weight: 6, arbitrary: fc.constant('application/x-www-form-urlencoded') },
        {
          weight: 1,
          arbitrary: fc.constant('application/x-www-form-urlencoded; charset=utf-8'),
        },
      ),
    )
    .map(([fields, repeatArrays, extra, contentType]) => {
      const form = new URLSearchParams();
      const entries: Array<[string, unknown]> =
        fields && typeof fields === 'object' && !Array.isArray(fields)
          ? Object.entries(fields)
          : [['body', fields]];
      for (const [key, item] of entries) {
        if (Array.isArray(item) && repeatArrays) item.forEach((v) => form.append(key, formText(v)));
        else form.append(key, formText(item));
      }
      for (const [key, item] of extra) form.append(key, item);
      return { payload: form.toString(), contentType };
    });

const rawText: fc.Arbitrary<string> = fc.oneof(
  text,
  fc.json({ maxDepth: 3 }),
  fc.constantFrom(
    '{',
    '[',
    '{"a":1}garbage',
    '{"__proto__":{"isAdmin":true}}',
    '{"constructor":{"prototype":{"isAdmin":true}}}',
    'a=1&a=2&__proto__[x]=1&constructor[prototype][y]=1',
    'name=ERP&name=ERP',
    `${'['.repeat(3000)}${']'.repeat(3000)}`,
    `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`,
    '\ufeff{"name":"ERP"}',
    '{"name":"ERP","name":"NOPE"}',
    '1e999999',
  ),
);
const rawBody: fc.Arbitrary<Body> = fc
  .tuple(
    rawText,
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...OTHER_TYPES, ...JSON_TYPES) },
      { weight: 1, arbitrary: headerText },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
  )
  .map(([payload, contentType]) => ({ payload, contentType }));

const anythingBody: fc.Arbitrary<Body> = jsonBody(
  fc.anything({ maxDepth: 3, maxKeys: 5, key: objectKey }),
);

function bodies(spec: FieldsSpec | undefined): fc.Arbitrary<Body | undefined> {
  const noBody = fc.constant(undefined);
  if (!spec) {
    // GET endpoints and logout: usually no body, sometimes one anyway.
    return fc.oneof(
      { weight: 6, arbitrary: noBody },
      { weight: 1, arbitrary: rawBody },
      { weight: 1, arbitrary: anythingBody },
    );
  }
  return fc.oneof(
    { weight: 12, arbitrary: jsonBody(spec.value) },
    { weight: 4, arbitrary: formBody(spec.form ?? spec.value) },
    { weight: 1, arbitrary: jsonBody(fc.jsonValue({ maxDepth: 4 })) },
    { weight: 1, arbitrary: anythingBody },
    { weight: 2, arbitrary: rawBody },
    { weight: 1, arbitrary: noBody },
  );
}

// ---------------------------------------------------------------------------------------------
// Query strings and headers

/** Percent-encodes UTF-8 bytes (lone surrogates become U+FFFD, as a browser would send them). */
const percentEncode = (value: string) =>
  [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

const encodePairs = (pairs: Array<[string, string]>) =>
  pairs.map(([name, item]) => `${percentEncode(name)}=${percentEncode(item)}`).join('&');

/** The endpoint's own query parameters with plausible values, or anything at all. */
function queries(model: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const names = Object.keys(model);
  const key = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...names, 'token', 'name', 'ticket', 't') },
    { weight: 1, arbitrary: fc.constantFrom(...OBJECT_KEYS, 'name[]', 'a[b]', 'name[__proto__]') },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );
  const value = fc.oneof(fc.constantFrom(...CONFIG_NAMES), jwtish, text, fc.constant(''));
  const encoded = fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 4 }).map(encodePairs);
  const own = fc
    .tuple(
      fc.record(model, { requiredKeys: [] }),
      fc.oneof(
        { weight: 5, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(fc.tuple(key, value), { maxLength: 2 }) },
      ),
    )
    .map(([fields, extra]) =>
      encodePairs([...(Object.entries(fields) as Array<[string, string]>), ...extra]),
    );
  const raw = fc
    .array(
      fc.constantFrom(
        ..."aZ09-_.~!$&'()*+,;=:@/?%[]".split(''),
        '%00',
        '%zz',
        '%C3%A9',
        '%FF',
        '%E2%82',
        'name=',
        'token=',
        '==',
        '&&',
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join(''));
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: names.length > 0 ? 6 : 0, arbitrary: own },
    { weight: 2, arbitrary: encoded },
    { weight: 1, arbitrary: raw },
  );
}

const RESERVED_HEADERS = [
  'authorization',
  'cookie',
  'content-type',
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'expect',
];

function authorizations(admin: boolean): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: admin ? 24 : 4, arbitrary: fc.constant(ADMIN_AUTH) },
    { weight: admin ? 2 : 4, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(basic(READER.username, READER.password)) },
    { weight: 1, arbitrary: fc.base64String({ maxLength: 40 }).map((b64) => `Basic ${b64}`) },
    {
      // Each of these pays a password hash (about 0.1 s): rare on purpose.
      weight: 1,
      arbitrary: fc
        .tuple(fieldOf(fc.constantFrom(...USERNAMES)), fc.constantFrom(...PASSWORDS, 'x'))
        .map(([username, password]) => basic(formText(username), password)),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom('Bearer ', 'bearer ', 'BEARER  ', 'Bearer'), jwtish)
        .map(([scheme, token]) => `${scheme}${token}`.replace(/[^\x20-\x7e]/g, '')),
    },
    { weight: 1, arbitrary: headerText },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'Basic',
        'Basic ',
        'Basic ===',
        `Basic ${Buffer.from(':').toString('base64')}`,
        `Basic ${Buffer.from(':admin').toString('base64')}`,
        `Basic ${Buffer.from('admin').toString('base64')}`,
        'Digest username="admin"',
        'Negotiate abc',
        // Control characters in Basic credentials: PostgreSQL cannot store a NUL, SQLite can.
        basic('\u0000', 'fuzz-password-1'),
        basic(`adm\u0000in`, ADMIN.password),
        basic(READER.username, `${READER.password}\u0000`),
        basic('\u202e\ud800\n', 'fuzz-password-1'),
      ),
    },
  );
}

const cookies: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constant(LIVE_SESSION) },
  { weight: 1, arbitrary: headerText.map((value) => `JSESSIONID=${value}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'JSESSIONID=',
      'JSESSIONID=a; JSESSIONID=b',
      `JSESSIONID=${'x'.repeat(200)}`,
      'JSESSIONID="quoted"',
      '__proto__=1; constructor=2; toString=3',
      'JSESSIONID=%00%zz',
    ),
  },
  { weight: 1, arbitrary: headerText },
);

const extraHeader = fc.option(
  fc.tuple(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((name) => !RESERVED_HEADERS.includes(name)),
    headerText,
  ),
  { nil: undefined },
);

// ---------------------------------------------------------------------------------------------
// Endpoints

interface Endpoint {
  label: string;
  method: Method;
  url: string;
  admin: boolean;
  runs: number;
  fields?: FieldsSpec;
  /** The query parameters the endpoint reads, with plausible values. */
  query?: Record<string, fc.Arbitrary<string>>;
}

const ENDPOINTS: Endpoint[] = [
  {
    label: 'POST token/generate',
    method: 'POST',
    url: `${TOKEN_API}/generate`,
    admin: true,
    runs: 250,
    fields: GENERATE_FIELDS,
  },
  {
    label: 'POST token/update',
    method: 'POST',
    url: `${TOKEN_API}/update`,
    admin: true,
    runs: 250,
    fields: UPDATE_FIELDS,
  },
  {
    label: 'POST token/delete',
    method: 'POST',
    url: `${TOKEN_API}/delete`,
    admin: true,
    runs: 200,
    fields: NAME_FIELDS,
  },
  {
    label: 'POST token/deleteBatch',
    method: 'POST',
    url: `${TOKEN_API}/deleteBatch`,
    admin: true,
    runs: 200,
    fields: BATCH_FIELDS,
  },
  {
    label: 'POST token/revoke',
    method: 'POST',
    url: `${TOKEN_API}/revoke`,
    admin: true,
    runs: 200,
    fields: REVOKE_FIELDS,
  },
  {
    label: 'POST token/verify',
    method: 'POST',
    url: `${TOKEN_API}/verify`,
    admin: true,
    runs: 200,
    fields: VERIFY_FIELDS,
  },
  {
    label: 'GET token/list',
    method: 'GET',
    url: `${TOKEN_API}/list`,
    admin: true,
    runs: 150,
  },
  {
    label: 'GET token/content',
    method: 'GET',
    url: `${TOKEN_API}/content`,
    admin: true,
    runs: 200,
    query: {
      name: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...CONFIG_NAMES) },
        { weight: 1, arbitrary: text },
      ),
    },
  },
  {
    label: 'GET user/detail',
    method: 'GET',
    url: `${USER_API}/detail`,
    admin: false,
    runs: 200,
    query: { token: jwtish },
  },
  {
    label: 'GET user/list',
    method: 'GET',
    url: `${USER_API}/list`,
    admin: true,
    runs: 150,
  },
  {
    label: 'GET roles/types',
    method: 'GET',
    url: '/plugin/datafor-modeler/api/roles/types',
    admin: false,
    runs: 150,
  },
  {
    label: 'POST user/insertOrUpdate',
    method: 'POST',
    url: `${USER_API}/insertOrUpdate`,
    admin: true,
    runs: 200,
    fields: UPSERT_USER_FIELDS,
  },
  {
    label: 'POST user/delete',
    method: 'POST',
    url: `${USER_API}/delete`,
    admin: true,
    runs: 200,
    fields: USERNAME_FIELDS,
  },
  {
    label: 'POST auth/login',
    method: 'POST',
    url: `${SESSION_API}/login`,
    admin: false,
    runs: 150,
    fields: LOGIN_FIELDS,
  },
  // Last: a logout with the live admin session's cookie ends that session for good.
  {
    label: 'POST auth/logout',
    method: 'POST',
    url: `${SESSION_API}/logout`,
    admin: false,
    runs: 150,
  },
];
const LOGIN_URL = `${SESSION_API}/login`;

function requests(endpoint: Endpoint): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      body: bodies(endpoint.fields),
      query: queries(endpoint.query ?? {}),
      authorization: authorizations(endpoint.admin),
      cookie: cookies,
      requestId: fc.option(headerText, { nil: undefined }),
      extra: extraHeader,
    })
    .map(({ body, query, authorization, cookie, requestId, extra }) => {
      const headers: Record<string, string> = {};
      if (extra) headers[extra[0]] = extra[1];
      if (authorization !== undefined) headers.authorization = authorization;
      if (cookie !== undefined) headers.cookie = cookie;
      if (requestId !== undefined) headers['x-request-id'] = requestId;
      if (body?.contentType !== undefined) headers['content-type'] = body.contentType;
      return {
        method: endpoint.method,
        url: query ? `${endpoint.url}?${query}` : endpoint.url,
        headers,
        ...(body ? { payload: body.payload } : {}),
      };
    });
}

// ---------------------------------------------------------------------------------------------
// Checking one request

class PropertyViolation extends Error {
  constructor(what: string, expected: string, actual: string) {
    super(`${what}\n  expected: ${expected}\n  actual:   ${actual}`);
  }
}

const clip = (value: string, length = 600) =>
  value.length > length ? `${value.slice(0, length)}... (${value.length} chars)` : value;

/** Every table of the service's entities, each ordered by its primary key. */
async function snapshot(t: TestApp): Promise<Snapshot> {
  const result: Snapshot = {};
  for (const entity of t.dataSource.entityMetadatas) {
    const keys = entity.primaryColumns.map((column) => column.databaseName).join(', ');
    result[entity.tableName] = (await t.dataSource.query(
      `SELECT * FROM ${entity.tableName} ORDER BY ${keys}`,
    )) as Record<string, unknown>[];
  }
  return result;
}

/**
 * What changed from one snapshot to the next, table by table; empty when nothing did. Rows
 * appended to audit_events that `allowedAudit` accepts are not a change.
 */
function differences(
  before: Snapshot,
  after: Snapshot,
  allowedAudit: (row: Record<string, unknown>) => boolean,
): string[] {
  const found: string[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = before[table] ?? [];
    const is = after[table] ?? [];
    if (isDeepStrictEqual(was, is)) continue;
    if (
      table === 'audit_events' &&
      isDeepStrictEqual(is.slice(0, was.length), was) &&
      is.slice(was.length).every(allowedAudit)
    )
      continue;
    const key = (row: unknown) => JSON.stringify(row);
    const wasKeys = new Set(was.map(key));
    const isKeys = new Set(is.map(key));
    const removed = was.filter((row) => !isKeys.has(key(row)));
    const added = is.filter((row) => !wasKeys.has(key(row)));
    found.push(
      `${table}: ${clip(JSON.stringify({ removed, added }), 1500)}` +
        (removed.length + added.length === 0 ? ' (same rows, another order)' : ''),
    );
  }
  return found;
}

/**
 * The usernames a request tries to sign in with: the Basic credentials, and on the login endpoint
 * the body's username. A refused request may leave the audit rows of those sign-ins (the service
 * audits every password check, Basic and session, success or failure), and nothing else.
 */
function presentedUsernames(request: FuzzRequest): string[] {
  const found: string[] = [];
  const authorization = request.headers.authorization ?? '';
  if (authorization.slice(0, 6).toLowerCase() === 'basic ') {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    if (decoded.indexOf(':') > 0) found.push(decoded.slice(0, decoded.indexOf(':')));
  }
  if (request.url.split('?')[0] === LOGIN_URL && request.payload !== undefined) {
    let username: unknown;
    try {
      username = (JSON.parse(request.payload) as Record<string, unknown> | null)?.username;
    } catch {
      username = new URLSearchParams(request.payload).get('username');
    }
    if (typeof username === 'string') found.push(username);
  }
  // A name is checked (and audited) in NFC, the form usernames are stored in.
  return found.flatMap((username) => [username, username.normalize('NFC')]);
}

const SIGN_IN_ACTIONS = ['auth.basic', 'session.login'];
const isSignInRecord = (row: Record<string, unknown>, usernames: string[]) =>
  SIGN_IN_ACTIONS.includes(String(row.action)) &&
  ['success', 'failure'].includes(String(row.outcome)) &&
  // The audit trail keeps control characters as `?` (PostgreSQL refuses NUL in text).
  usernames.some(
    (username) =>
      row.target ===
      Array.from(username.replace(/[\u0000-\u001f\u007f]/g, '?'))
        .slice(0, 256)
        .join(''),
  ) &&
  !SECRETS.some((secret) => JSON.stringify(row).includes(secret));

function parse(response: LightMyRequestResponse): unknown {
  try {
    return JSON.parse(response.body) as unknown;
  } catch {
    return undefined;
  }
}

function checkEnvelope(response: LightMyRequestResponse): void {
  const status = response.statusCode;
  const actual = `${status} ${String(response.headers['content-type'])} ${clip(response.body)}`;
  const body = parse(response) as Record<string, unknown> | undefined;
  const expected = `${status} {"success":false,"code":"${status}","msg":"<non-empty>","errors"?:[{"field","message"}]}`;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new PropertyViolation('a 4xx without a JSON envelope', expected, actual);
  }
  const extra = Object.keys(body).filter((k) => !['success', 'code', 'msg', 'errors'].includes(k));
  const errorsOk =
    body.errors === undefined ||
    (Array.isArray(body.errors) &&
      body.errors.every(
        (error: unknown) =>
          !!error &&
          typeof error === 'object' &&
          isDeepStrictEqual(Object.keys(error).sort(), ['field', 'message']) &&
          typeof (error as Record<string, unknown>).field === 'string' &&
          typeof (error as Record<string, unknown>).message === 'string',
      ));
  if (
    body.success !== false ||
    body.code !== String(status) ||
    typeof body.msg !== 'string' ||
    body.msg.length === 0 ||
    extra.length > 0 ||
    !errorsOk
  ) {
    throw new PropertyViolation('a 4xx with a broken envelope', expected, actual);
  }
  if (!String(response.headers['content-type']).startsWith('application/json')) {
    throw new PropertyViolation('a 4xx envelope not labelled as JSON', expected, actual);
  }
  if (status === 401 && response.headers['www-authenticate'] !== BASIC_CHALLENGE) {
    throw new PropertyViolation(
      'a 401 without the Basic challenge',
      `WWW-Authenticate: ${BASIC_CHALLENGE}`,
      `WWW-Authenticate: ${String(response.headers['www-authenticate'])}`,
    );
  }
}

function checkResponse(response: LightMyRequestResponse): void {
  const status = response.statusCode;
  const actual = `${status} ${clip(response.body)}`;
  if (status >= 500) throw new PropertyViolation('a 5xx answer', 'a status below 500', actual);
  if (status < 200 || (status >= 300 && status < 400)) {
    throw new PropertyViolation('an unexpected status', 'a 2xx or a 4xx', actual);
  }
  if (status >= 400) checkEnvelope(response);
  else if ((parse(response) as { success?: unknown } | undefined)?.success !== true) {
    throw new PropertyViolation('a 2xx without success:true', '{"success":true,...}', actual);
  }
  const headers = JSON.stringify(response.headers);
  for (const secret of [...SECRETS, 'scrypt$']) {
    if (response.body.includes(secret) || headers.includes(secret)) {
      throw new PropertyViolation(
        'a secret, password or password hash in the response',
        `no ${JSON.stringify(secret.slice(0, 8))}... in the body or headers`,
        `${actual} ${clip(headers)}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The app, its fixtures and their healing

interface Fixtures {
  admin?: Record<string, unknown>;
  reader?: Record<string, unknown>;
  erp?: Record<string, unknown>;
  /** A revocation cut-off of ERP (token/revoke with name ERP) would reject the fixture's tokens. */
  erpCutoff?: Record<string, unknown>;
}

const fixturesOf = (state: Snapshot): Fixtures => ({
  admin: state.users.find((row) => row.username === ADMIN.username),
  reader: state.users.find((row) => row.username === READER.username),
  erp: state.token_configs.find((row) => row.name === 'ERP'),
  erpCutoff: state.token_cutoffs.find((row) => row.config_name === 'ERP'),
});

const ADMIN_FIXTURE = {
  username: ADMIN.username,
  password: ADMIN.password,
  usertype: 'Administrator',
  enabled: '1',
};
const READER_FIXTURE = { ...READER, usertype: 'SYS_Reader', enabled: '1' };
const ERP_FIXTURE = {
  name: 'ERP',
  secret: SECRET,
  enable: '1',
  algorithm: 'HS256',
  inituser: '1',
  expire: 86400,
  token_name: 'token',
  fieldmap: { username: 'ERP' },
  initroles: ['SYS_Reader'],
  initpwd: null,
};

describe('fuzzing every endpoint (fast-check)', () => {
  let t: TestApp;
  /** The store as the last request left it. */
  let state: Snapshot;
  /** The fixture rows as last written by the fixtures or by `heal`. */
  let fixtures: Fixtures;
  let liveSession: string;

  async function keeper(url: string, payload: unknown): Promise<void> {
    const response = await t.inject({
      method: 'POST',
      url,
      headers: { authorization: basic(KEEPER.username, KEEPER.password) },
      payload: payload as object,
    });
    if (response.statusCode !== 200) {
      throw new Error(`fixture ${url} failed: ${response.statusCode} ${response.body}`);
    }
  }

  /** Puts back the fixture rows an accepted request changed, so that later runs still get past auth. */
  async function heal(): Promise<void> {
    const current = fixturesOf(state);
    let healed = false;
    if (!isDeepStrictEqual(current.admin, fixtures.admin)) {
      await keeper(`${USER_API}/insertOrUpdate`, ADMIN_FIXTURE);
      healed = true;
    }
    if (!isDeepStrictEqual(current.reader, fixtures.reader)) {
      await keeper(`${USER_API}/insertOrUpdate`, READER_FIXTURE);
      healed = true;
    }
    if (!isDeepStrictEqual(current.erpCutoff, fixtures.erpCutoff)) {
      // Only deleting a configuration forgets its cut-off.
      if (current.erp) await keeper(`${TOKEN_API}/delete`, { name: 'ERP' });
      await keeper(`${TOKEN_API}/update`, ERP_FIXTURE);
      healed = true;
    } else if (!isDeepStrictEqual(current.erp, fixtures.erp)) {
      await keeper(`${TOKEN_API}/update`, ERP_FIXTURE);
      healed = true;
    }
    if (healed) {
      state = await snapshot(t);
      fixtures = fixturesOf(state);
    }
  }

  async function send(request: FuzzRequest): Promise<LightMyRequestResponse> {
    const headers = { ...request.headers };
    if (headers.cookie === LIVE_SESSION) headers.cookie = `JSESSIONID=${liveSession}`;
    return t.inject({ ...request, headers });
  }

  /** Sends one request and checks every promise about it; the store is re-read after each. */
  async function check(request: FuzzRequest): Promise<void> {
    const before = state;
    const response = await send(request);
    state = await snapshot(t);
    try {
      checkResponse(response);
      if (response.statusCode >= 400) {
        const signIns = presentedUsernames(request);
        const changed = differences(before, state, (row) => isSignInRecord(row, signIns));
        if (changed.length > 0) {
          throw new PropertyViolation(
            `the store changed after a refused request (${response.statusCode} ${clip(response.body, 300)})`,
            'no change, but for appended audit rows of the sign-ins the request attempted ' +
              `(auth.basic / session.login for ${JSON.stringify(signIns)})`,
            changed.join('\n            '),
          );
        }
      }
    } finally {
      await heal();
    }
  }

  beforeAll(async () => {
    expect(SECRET).toHaveLength(40);
    t = await startTestApp();
    const created = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      ...KEEPER,
      usertype: 'Administrator',
      enabled: '1',
    });
    expect({ status: created.statusCode, body: created.json() }).toEqual({
      status: 200,
      body: { success: true, username: KEEPER.username },
    });
    await keeper(`${USER_API}/insertOrUpdate`, READER_FIXTURE);
    await keeper(`${TOKEN_API}/update`, ERP_FIXTURE);
    const login = await t.inject({
      method: 'POST',
      url: LOGIN_URL,
      payload: { username: ADMIN.username, password: ADMIN.password },
    });
    expect({ status: login.statusCode, body: login.json() }).toEqual({
      status: 200,
      body: { success: true, data: '1', msg: 'success' },
    });
    const cookie = login.cookies.find((c) => c.name === 'JSESSIONID');
    liveSession = cookie!.value;
    state = await snapshot(t);
    expect(Object.keys(state)).toEqual(
      expect.arrayContaining([
        'token_configs',
        'users',
        'sessions',
        'revoked_tokens',
        'token_cutoffs',
        'audit_events',
      ]),
    );
    fixtures = fixturesOf(state);
    expect(fixtures.admin && fixtures.reader && fixtures.erp).toBeTruthy();
    // The fixture mints, so that a refused mint is a refusal and not a broken fixture.
    const mint = await t.admin('POST', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: READER.username },
    });
    expect(mint.statusCode).toBe(200);
    state = await snapshot(t);
  }, 120_000);

  afterAll(() => t?.close());

  it.each(ENDPOINTS)(
    '$label: no 5xx, 4xx always in the envelope, nothing stored changes on a refusal ($runs runs)',
    async (endpoint) => {
      await fc.assert(fc.asyncProperty(requests(endpoint), check), { numRuns: endpoint.runs });
    },
    180_000,
  );

  // A token signed with the fixture's secret for a user that does not exist yet signs that user in
  // (created on first use, contract section 4). On a request that is refused all the same (every
  // admin endpoint answers a token session 403; a login with a bad body 400), nobody is created.
  it('a valid token for a new user, on a refused request, creates nobody (60 runs)', async () => {
    let serial = 0;
    const refused = [
      ...ENDPOINTS.filter((endpoint) => endpoint.admin),
      ENDPOINTS.find((endpoint) => endpoint.url === LOGIN_URL)!,
    ];
    const sso = fc.record({
      endpoint: fc.constantFrom(...refused.map((endpoint) => endpoint.label)),
      user: fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/),
      via: fc.constantFrom('bearer', 'query'),
    });
    await fc.assert(
      fc.asyncProperty(sso, async ({ endpoint: label, user, via }) => {
        const endpoint = refused.find((candidate) => candidate.label === label)!;
        // A fresh name on every run (shrinking included), so that each run meets an unknown user.
        const username = `sso-${++serial}-${user}`;
        const token = signHmacToken(
          { alg: 'HS256', typ: 'JWT', kid: 'ERP' },
          { ERP: username, exp: now() + 3600 },
          SECRET,
        );
        await check({
          method: endpoint.method,
          url: via === 'query' ? `${endpoint.url}?token=${token}` : endpoint.url,
          headers: {
            ...(via === 'bearer' ? { authorization: `Bearer ${token}` } : {}),
            ...(endpoint.method === 'POST' ? { 'content-type': 'application/json' } : {}),
          },
          ...(endpoint.method === 'POST' ? { payload: '{}' } : {}),
        });
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
