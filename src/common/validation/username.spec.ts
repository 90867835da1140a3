import { canonicalUsername, usernameProblem } from './username';

describe('canonicalUsername', () => {
  it('takes every printable ASCII character but space and colon, and refuses the rest', () => {
    for (let code = 0; code < 128; code++) {
      const character = String.fromCharCode(code);
      const allowed = code > 0x20 && code < 0x7f && character !== ':';
      expect({ code, name: canonicalUsername(`a${character}b`) }).toEqual({
        code,
        name: allowed ? `a${character}b` : undefined,
      });
      expect({ code, problem: usernameProblem(`a${character}b`) === undefined }).toEqual({
        code,
        problem: allowed,
      });
    }
  });

  it('takes 1 to 128 characters', () => {
    expect(canonicalUsername('x'.repeat(128))).toBe('x'.repeat(128));
    expect(canonicalUsername('x'.repeat(129))).toBeUndefined();
    expect(canonicalUsername('é'.repeat(129))).toBeUndefined();
    expect(canonicalUsername('')).toBeUndefined();
  });

  it('stores other names in NFC, and refuses lone surrogates, format characters and spaces', () => {
    expect(canonicalUsername('jose\u0301')).toBe('jos\u00e9');
    expect(canonicalUsername('\u00e9milie')).toBe('\u00e9milie');
    expect(canonicalUsername('ali\u200bce')).toBeUndefined();
    expect(canonicalUsername('bob\ud800')).toBeUndefined();
    expect(canonicalUsername('李\u3000四')).toBeUndefined();
    expect(canonicalUsername(42)).toBeUndefined();
  });
});
