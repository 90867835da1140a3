/**
 * NestJS 12 ships as ES modules, so Jest runs in its ESM mode (node --experimental-vm-modules):
 * ts-jest compiles the TypeScript as ES modules for the tests, while `nest build` emits CommonJS.
 * Unit specs sit beside the code; e2e specs live in test/ and start real apps on real databases.
 */
const { existsSync } = require('node:fs');
const { join } = require('node:path');

/**
 * The e2e suites that need PostgreSQL, Redis or Chromium even in the SQLite pass (they fail, never
 * skip, without them), by file name in test/. Every other test/*.e2e-spec.ts is in `e2e`.
 */
const SERVICES_SUITES = [
  'concurrent-writes.e2e-spec.ts', // PostgreSQL
  'csrf-browser.e2e-spec.ts', // Chromium
  'database-outage.e2e-spec.ts', // PostgreSQL
  'key-outage.e2e-spec.ts', // PostgreSQL
  'package-hosts.e2e-spec.ts', // PostgreSQL (and the npm registry, for the host apps' installs)
  'redis-outage.e2e-spec.ts', // Redis
  'scale-out.e2e-spec.ts', // PostgreSQL and Redis
  'sign-in-races.e2e-spec.ts', // Redis
  'swagger-ui.e2e-spec.ts', // Chromium
];
for (const suite of SERVICES_SUITES) {
  if (!existsSync(join(__dirname, 'test', suite))) {
    throw new Error(`jest.config.js: SERVICES_SUITES names test/${suite}, which does not exist`);
  }
}
const servicesSuitePaths = SERVICES_SUITES.map((suite) => `/test/${suite.replace(/\./g, '\\.')}$`);

const tsJest = { tsconfig: '<rootDir>/../tsconfig.spec.json', useESM: true };
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', tsJest] },
};
module.exports = {
  // e2e tests start apps and processes; a test may take longer than Jest's default 5 s.
  testTimeout: 30000,
  projects: [
    // src/**/*.spec.ts: no database, no server.
    { ...common, displayName: 'unit', rootDir: 'src', testRegex: '\\.spec\\.ts$' },
    // Real apps on SQLite (or on DATABASE_URL's PostgreSQL when set), needing nothing else.
    {
      ...common,
      displayName: 'e2e',
      rootDir: 'test',
      testRegex: '\\.e2e-spec\\.ts$',
      testPathIgnorePatterns: ['/node_modules/', ...servicesSuitePaths],
    },
    // SERVICES_SUITES: PostgreSQL, Redis or Chromium in every pass.
    { ...common, displayName: 'services', rootDir: 'test', testRegex: servicesSuitePaths },
  ],
};
