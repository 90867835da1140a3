/**
 * NestJS 12 ships as ES modules, so Jest runs in its ESM mode (node --experimental-vm-modules):
 * ts-jest compiles the TypeScript as ES modules for the tests, while `nest build` emits CommonJS.
 * Unit specs sit beside the code; e2e specs live in test/ and start real apps on real databases.
 */
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
    { ...common, displayName: 'unit', rootDir: 'src', testRegex: '\\.spec\\.ts$' },
    { ...common, displayName: 'e2e', rootDir: 'test', testRegex: '\\.e2e-spec\\.ts$' },
  ],
};
