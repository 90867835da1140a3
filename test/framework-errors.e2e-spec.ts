import { connect } from 'node:net';
import { PLAIN_HTTP_HEADERS, TLS_HEADERS } from '../src/app/http/security-headers';
import { startTestApp, TestApp, TOKEN_API } from './support/test-app';

/**
 * Issue 17, point 10: what Fastify and Node answer before Nest sees a request (a malformed URL, a
 * header Node's parser refuses) carries the error envelope and the security headers like any answer.
 */

/** Writes `raw` on a fresh connection and reads until the service closes it. */
function rawExchange(port: number, raw: string): Promise<string> {
  return new Promise((answered, failed) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', failed);
    socket.on('close', () => answered(text));
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.write(raw);
  });
}

function parseAnswer(text: string) {
  const [head, body] = text.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  return { statusLine, headers, body: JSON.parse(body) as unknown };
}

const envelope = (status: number) => ({
  success: false,
  code: String(status),
  msg: expect.any(String),
});

describe('errors answered before Nest', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = Number(new URL(await t.app.getUrl()).port);
  });
  afterAll(() => t.close());

  it.each(['/%zz', `${TOKEN_API}/list%zz`, '/api-docs/%E0%A4%A'])(
    'answers GET %s with 400, the envelope and the security headers',
    async (url) => {
      const response = await t.inject({ method: 'GET', url });
      expect({ status: response.statusCode, body: response.json() }).toEqual({
        status: 400,
        body: { success: false, code: '400', msg: 'the URL is malformed (a bad percent-encoding)' },
      });
      expect(response.headers).toMatchObject(PLAIN_HTTP_HEADERS);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
    },
  );

  it('answers a malformed URL over a real connection the same way', async () => {
    const answer = parseAnswer(
      await rawExchange(port, 'GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.body).toEqual(envelope(400));
    expect(answer.headers).toMatchObject(PLAIN_HTTP_HEADERS);
  });

  it.each<[string, string, number]>([
    ['a header name with a space', 'Bad Name: 1\r\n', 400],
    ['a control byte in a header value', 'X-Value: a\u0001b\r\n', 400],
    ['a Content-Length that is not a number', 'Content-Length: ten\r\n', 400],
    ['headers over the limit (16 KiB)', `X-Big: ${'a'.repeat(20_000)}\r\n`, 431],
  ])('answers %s with the envelope and the security headers', async (_label, header, status) => {
    const answer = parseAnswer(
      await rawExchange(port, `POST ${TOKEN_API}/list HTTP/1.1\r\nHost: x\r\n${header}\r\n`),
    );
    expect(answer.statusLine).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(answer.body).toEqual(envelope(status));
    expect(answer.headers).toMatchObject(PLAIN_HTTP_HEADERS);
    expect(answer.headers['content-length']).toBe(
      String(Buffer.byteLength(JSON.stringify(answer.body))),
    );
  });
});

describe('errors answered before Nest, with SECURITY_HEADERS_TLS=always', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SECURITY_HEADERS_TLS: 'always' } });
  });
  afterAll(() => t.close());

  it('sends the TLS set (HSTS) with a malformed URL', async () => {
    const response = await t.inject({ method: 'GET', url: '/%zz' });
    expect(response.statusCode).toBe(400);
    expect(response.headers).toMatchObject(TLS_HEADERS);
  });
});
