/** Jest on native ESM (run with --experimental-vm-modules), TypeScript transformed by SWC. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2024' }, module: { type: 'es6' }, sourceMaps: 'inline' },
    ],
  },
  testMatch: ['<rootDir>/{actions,packages,test}/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 60_000,
  // Tests spawn the built bundles: rebuild any older than its sources first (under the dist lock).
  globalSetup: '<rootDir>/test/setup-dist.ts',
  // Two cores: more workers only fight over them and the real servers the tests start.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/closing-line-reporter.js'],
};
