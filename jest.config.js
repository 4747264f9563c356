// Jest runs the TypeScript sources as native ES modules (see README, "Module system").
/** @type {import('jest').Config} */
const tsJest = ['ts-jest', { useESM: true, tsconfig: 'tsconfig.check.json', diagnostics: false }];
const base = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^#common/(.*)\\.js$': '<rootDir>/common/src/$1.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/.cluster/'],
};
// Suites that need Kubernetes get the local cluster (started, or reused when already up) and its
// kubeconfig in KUBECONFIG_TEST / KUBECONFIG; see test/support/cluster-global-setup.ts.
const cluster = {
  globalSetup: '<rootDir>/test/support/cluster-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/cluster-global-teardown.ts',
};
export default {
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{api,operator,common}/src/**/*.test.ts',
        '<rootDir>/hack/**/*.test.ts',
        '<rootDir>/deploy/**/*.test.ts',
      ],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$'],
    },
    {
      ...base,
      ...cluster,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/{api,operator,common}/src/**/*.int.test.ts',
        '<rootDir>/test/integration/**/*.test.ts',
      ],
    },
    {
      ...base,
      ...cluster,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
    },
  ],
};
