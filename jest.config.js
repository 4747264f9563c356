// Jest runs the TypeScript sources as native ES modules (see README, "Module system").
/** @type {import('jest').Config} */
const tsJest = [
  'ts-jest',
  { useESM: true, tsconfig: 'tsconfig.check.json', diagnostics: false },
];
const base = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^#common/(.*)\\.js$': '<rootDir>/common/src/$1.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node',
};
export default {
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['<rootDir>/{api,operator,common}/src/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$'],
    },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/{api,operator,common}/src/**/*.int.test.ts', '<rootDir>/test/integration/**/*.test.ts'],
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
    },
  ],
};
