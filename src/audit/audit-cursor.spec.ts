import { decodeCursor, encodeCursor } from './audit-cursor';

describe('audit cursors', () => {
  it('round-trips an instant and an id', () => {
    for (const cursor of [
      { at: 0, id: 1 },
      { at: 1_800_000_000_123, id: 42 },
      { at: 8_640_000_000_000_000, id: Number.MAX_SAFE_INTEGER },
    ]) {
      const text = encodeCursor(cursor);
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(text)).toEqual(cursor);
    }
  });

  it('refuses what it did not give out', () => {
    const forged = (text: string) => Buffer.from(text).toString('base64url');
    for (const text of [
      '',
      'not a cursor',
      '====',
      forged('1.'),
      forged('.1'),
      forged('-1.5'),
      forged('1.5.6'),
      forged('1e3.5'),
      forged('99999999999999999.1'),
      forged(' 1.5'),
      forged('1.5\n'),
      'A'.repeat(45),
    ]) {
      expect(decodeCursor(text)).toBeUndefined();
    }
  });
});
