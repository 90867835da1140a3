import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { logDestination, loggerOptions, pathOf } from './logger-options';

describe('logDestination', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'log-destination-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gathers short lines, and writes them within a second', async () => {
    const file = join(dir, 'service.log');
    const destination = logDestination(file);
    const logger = pino(loggerOptions('info'), destination);
    logger.info('first');
    logger.info('second');
    await sleep(50);
    expect(readFileSync(file, 'utf8')).toBe('');
    await sleep(1500);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'first',
      'second',
    ]);
    destination.end();
  });

  it('writes as soon as 4 KiB are gathered', async () => {
    const file = join(dir, 'busy.log');
    const destination = logDestination(file);
    const logger = pino(loggerOptions('info'), destination);
    for (let i = 0; i < 60; i++) logger.info({ request: i }, 'request completed'.padEnd(80, '.'));
    await sleep(100);
    expect(readFileSync(file, 'utf8').length).toBeGreaterThan(4096);
    destination.end();
  });
});

describe('pathOf', () => {
  it('keeps a plain path, and never a query or a JWT in the path', () => {
    expect(pathOf('/plugin/datafor-modeler/api/user/detail')).toBe(
      '/plugin/datafor-modeler/api/user/detail',
    );
    expect(pathOf('/x?token=abc')).toBe('/x?[query redacted]');
    expect(pathOf('/verify/eyJhbGciOi.eyJzdWIi.c2ln/more')).toBe('/verify/[token redacted]/more');
    expect(pathOf(undefined)).toBe('');
  });
});
