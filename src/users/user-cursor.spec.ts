import { decodeUserCursor, encodeUserCursor } from './user-cursor';

describe('user/list cursor', () => {
  it('gives back the username it was made from, ASCII or not', () => {
    for (const username of ['a', 'alice', 'ünïcödé-名前', 'x'.repeat(128), '𝒜𝒷𝒸'.repeat(42)]) {
      const cursor = encodeUserCursor(username);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeUserCursor(cursor)).toBe(username);
    }
  });

  it('refuses what it did not give out', () => {
    for (const text of [
      '',
      'a',
      'abc=',
      'a b',
      Buffer.from('has space').toString('base64url'),
      Buffer.from('a:b').toString('base64url'),
      Buffer.from([0xff, 0xfe]).toString('base64url'),
      Buffer.from('e\u0301').toString('base64url'),
      Buffer.from('x'.repeat(129)).toString('base64url'),
      `${encodeUserCursor('alice')}A`,
    ]) {
      expect(decodeUserCursor(text)).toBeUndefined();
    }
  });
});
