/** Jest runs TypeScript through swc (fast); `npm run typecheck` does the type checking. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  // pg-boss 12 and a few of its dependencies ship ESM only.
  transformIgnorePatterns: ['/node_modules/(?!(pg-boss|serialize-error|non-error|rrule-temporal|temporal-polyfill|@digitalbazaar|@digitalcredentials|@stablelib|base58-universal|base64url-universal|ky|jsonld-document-loader|@peculiar|jwt-decode)/)'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  testTimeout: 30000,
};
