import { parseCorsOrigins } from './cors-origins';
import { parseSettings } from './settings';

describe('CORS_ORIGINS', () => {
  it('reads entries as browsers write Origin: lower case, no trailing slash, no default port', () => {
    expect(
      parseCorsOrigins(
        ' https://App.Example.com/ ,HTTP://ERP.example.com:80,https://x.example:8443',
      ),
    ).toEqual(['https://app.example.com', 'http://erp.example.com', 'https://x.example:8443']);
  });

  it.each([
    'https://erp.example.com/reports',
    'https://erp.example.com/?a=1',
    'https://erp.example.com/#top',
    'https://user:pw@erp.example.com',
    'ftp://erp.example.com',
    'erp.example.com',
    '*',
    'https://erp.example.com,',
  ])('refuses %s with a sentence naming the variable', (value) => {
    expect(parseCorsOrigins(value)).toBeUndefined();
    expect(() => parseSettings({ CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS must be/);
  });

  it('gives the settings the normalised list', () => {
    expect(parseSettings({ CORS_ORIGINS: 'https://App.Example.com/' }).corsOrigins).toEqual([
      'https://app.example.com',
    ]);
  });
});
