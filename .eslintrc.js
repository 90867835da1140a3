/**
 * Imports point one way. From the bottom: `common` (errors, validation, HTTP helpers); the
 * infrastructure the library ships (`database`, `secrets`, `metrics`, `changes`); its features
 * (`access`, `users`, `audit`, `token`); the library's roots (`index.ts`, `schema.ts`); and on top
 * the standalone service, `src/app` (with its settings in `src/config`, and `main.ts`), which nothing
 * of the library imports.
 */
const LAYERS = {
  common: ['./src/common'],
  infrastructure: ['./src/database', './src/secrets', './src/metrics', './src/changes'],
  features: ['./src/access', './src/users', './src/audit', './src/token'],
  roots: ['./src/index.ts', './src/schema.ts'],
  app: ['./src/app', './src/config', './src/main.ts'],
};
const ORDER = ['common', 'infrastructure', 'features', 'roots', 'app'];
/**
 * What import/no-restricted-paths cannot check, as its resolver does not resolve it to a file of
 * src: the package's own name, and relative paths ending in `.js` (the sources are .ts).
 */
const UNCHECKED_IMPORTS = [
  {
    group: ['datafor-token-service', 'datafor-token-service/*'],
    message: 'src imports its own files by relative path, which the layer check (LAYERS) sees.',
  },
  {
    group: ['./**/*.js', '../**/*.js'],
    message:
      'Relative imports in src leave out the extension, so that the layer check (LAYERS) sees them.',
  },
];
const zones = ORDER.flatMap((layer, index) =>
  LAYERS[layer].map((target) => ({
    target,
    from: ORDER.slice(index + 1).flatMap((higher) => LAYERS[higher]),
    message: `${layer} may not import from a layer above it (see LAYERS in .eslintrc.js).`,
  })),
);

module.exports = {
  root: true,
  parser: '@typescript-eslint/parser',
  parserOptions: {
    project: 'tsconfig.json',
    tsconfigRootDir: __dirname,
    sourceType: 'module',
  },
  plugins: ['@typescript-eslint/eslint-plugin', 'import'],
  settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
  extends: ['plugin:@typescript-eslint/recommended', 'prettier'],
  env: { node: true, jest: true },
  ignorePatterns: [
    '.eslintrc.js',
    'jest.config.js',
    'dist',
    'node_modules',
    'coverage',
    // Compiled by test/generated-clients.e2e-spec.ts, beside the code it generates for them.
    'test/fixtures/generated-client',
  ],
  rules: {
    '@typescript-eslint/no-explicit-any': 'error',
    '@typescript-eslint/no-floating-promises': 'error',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    'no-console': 'error',
    'import/no-restricted-paths': ['error', { zones }],
  },
  overrides: [
    {
      files: ['src/**/*.ts'],
      rules: { 'no-restricted-imports': ['error', { patterns: UNCHECKED_IMPORTS }] },
    },
    {
      files: ['test/**/*.ts', 'bench/**/*.ts', 'src/**/*.spec.ts'],
      rules: { 'no-console': 'off' },
    },
  ],
};
