/** Unit specs sit beside the code; e2e specs live in test/ and start real apps on real databases. */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] };
module.exports = {
  projects: [
    { displayName: 'unit', testEnvironment: 'node', rootDir: 'src', testRegex: '\\.spec\\.ts$', transform },
    { displayName: 'e2e', testEnvironment: 'node', rootDir: 'test', testRegex: '\\.e2e-spec\\.ts$', transform },
  ],
};
