import { plainToInstance } from 'class-transformer';
import { FieldsBadRequestException } from '../common/http/bad-request';
import { GenerateTokenDto } from './dto/generate-token.dto';
import { TokenPayloadDto } from './dto/token-payload.dto';
import { buildClaims } from './token-claims';

const payload = (plain: Record<string, unknown>) =>
  TokenPayloadDto.fromPlain(plain) as TokenPayloadDto;

function fieldErrors(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (error instanceof FieldsBadRequestException) return error.fieldErrors;
    throw error;
  }
  throw new Error('expected a 400');
}

describe('buildClaims', () => {
  it('puts username, name and email under the fieldmap claim names', () => {
    const claims = buildClaims(payload({ username: 'alice', name: 'Alice', email: 'a@x.io' }), {
      username: 'sub',
      name: 'fullName',
      email: 'mail',
    });
    expect(claims).toEqual({ sub: 'alice', fullName: 'Alice', mail: 'a@x.io' });
  });

  it('keeps the field names where the fieldmap names no claim', () => {
    expect(buildClaims(payload({ username: 'alice', name: 'Alice' }), { username: 'ERP' })).toEqual(
      { ERP: 'alice', name: 'Alice' },
    );
  });

  it('never makes the password a claim', () => {
    expect(
      buildClaims(payload({ username: 'alice', password: 'secret' }), { username: 'u' }),
    ).toEqual({ u: 'alice' });
  });

  it('keeps arrays and turns numbers and booleans into strings', () => {
    const claims = buildClaims(
      payload({ username: 'a', roles: ['R1'], level: 3, vip: false, tags: ['x', 'y'] }),
      { username: 'u' },
    );
    expect(claims).toEqual({ u: 'a', roles: ['R1'], level: '3', vip: 'false', tags: ['x', 'y'] });
  });

  it.each(['exp', 'iat', 'nbf', 'jti', 'iss', 'aud', 'sub'])(
    'refuses the registered claim %s in a payload',
    (claim) => {
      expect(
        fieldErrors(() => buildClaims(payload({ username: 'a', [claim]: 'x' }), { username: 'u' })),
      ).toEqual([
        {
          field: `payload.${claim}`,
          message: 'is a registered JWT claim and cannot be set in a payload',
        },
      ]);
    },
  );

  it.each([
    ['an object', { a: 1 }],
    ['null', null],
    ['an array of numbers', [1, 2]],
    ['infinity', Infinity],
  ])('refuses a custom claim that is %s', (_, value) => {
    expect(
      fieldErrors(() =>
        buildClaims(payload({ username: 'a', custom: value }), { username: 'u' }),
      )[0],
    ).toEqual({
      field: 'payload.custom',
      message: 'must be a string, number, boolean or array of strings',
    });
  });

  it('refuses a custom claim that collides with a mapped one', () => {
    expect(
      fieldErrors(() => buildClaims(payload({ username: 'a', ERP: 'b' }), { username: 'ERP' })),
    ).toEqual([
      { field: 'payload.ERP', message: 'travels as claim "ERP", which another field already sets' },
    ]);
  });

  it('refuses more than 64 custom claims', () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`c${i}`, 'v']));
    expect(
      fieldErrors(() => buildClaims(payload({ username: 'a', ...many }), { username: 'u' }))[0]
        .field,
    ).toBe('payload');
  });

  it('splits a plain payload into known fields and custom claims', () => {
    const dto = payload({ username: 'a', roles: 'R1&R2', extra: 'x' });
    expect(dto).toBeInstanceOf(TokenPayloadDto);
    expect(dto.roles).toEqual(['R1', 'R2']);
    expect(dto.customClaims).toEqual({ extra: 'x' });
    expect(plainToInstance(TokenPayloadDto, { username: 'a' }).customClaims).toBeUndefined();
  });

  it('splits the payload of a generate body, as JSON or as form text, the same way', () => {
    const plain = { username: 'a\u0301', roles: 'R1&R2', extra: 'x', customClaims: 'y' };
    for (const given of [plain, JSON.stringify(plain)]) {
      const dto = plainToInstance(GenerateTokenDto, {
        name: 'ERP',
        privateKey: 'k',
        payload: given,
      });
      expect(dto.payload).toBeInstanceOf(TokenPayloadDto);
      expect({ ...dto.payload }).toEqual({
        username: '\u00e1',
        roles: ['R1', 'R2'],
        customClaims: { extra: 'x', customClaims: 'y' },
      });
    }
  });
});
