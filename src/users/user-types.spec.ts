import { canonicalUserType, splitRoles, USER_TYPES } from './user-types';

describe('canonicalUserType', () => {
  it.each([
    ['Administrator', 'Administrator'],
    ['administrator', 'Administrator'],
    ['ADMINISTRATOR', 'Administrator'],
    ['SYS_CREATOR', 'SYS_Creator'],
    ['sys_creator', 'SYS_Creator'],
    ['Sys_Creator', 'SYS_Creator'],
    ['SYS_Reader', 'SYS_Reader'],
    ['sys_READER', 'SYS_Reader'],
  ])('answers %s in the canonical case %s', (given, canonical) => {
    expect(canonicalUserType(given)).toBe(canonical);
  });

  it.each(['Manager', 'Admin', 'SYS', 'SYS_Writer', '', 'Administrators'])(
    'answers undefined for %p, which names no user type',
    (given) => {
      expect(canonicalUserType(given)).toBeUndefined();
    },
  );

  it.each([undefined, null, 1, true, ['Administrator'], { type: 'Administrator' }])(
    'answers undefined for the non-string %p',
    (given) => {
      expect(canonicalUserType(given)).toBeUndefined();
    },
  );

  it('knows exactly the three user types of the contract', () => {
    expect([...USER_TYPES].sort()).toEqual(['Administrator', 'SYS_Creator', 'SYS_Reader']);
  });
});

describe('splitRoles', () => {
  it('separates the user types (canonical case) from the business roles', () => {
    expect(splitRoles(['SYS_CREATOR', 'Manager', 'Sales'])).toEqual({
      types: ['SYS_Creator'],
      roles: ['Manager', 'Sales'],
    });
  });

  it('drops duplicates, also of a user type spelt in two letter cases', () => {
    expect(splitRoles(['sys_reader', 'Manager', 'SYS_Reader', 'Manager'])).toEqual({
      types: ['SYS_Reader'],
      roles: ['Manager'],
    });
  });

  it('reports every user type named, so that a caller can refuse two', () => {
    expect(splitRoles(['SYS_Reader', 'administrator', 'Auditor']).types.sort()).toEqual([
      'Administrator',
      'SYS_Reader',
    ]);
  });

  it('keeps the letter case of business roles, which are not user types', () => {
    expect(splitRoles(['manager', 'Manager'])).toEqual({
      types: [],
      roles: ['manager', 'Manager'],
    });
  });

  it('answers two empty lists for no roles', () => {
    expect(splitRoles([])).toEqual({ types: [], roles: [] });
  });
});
