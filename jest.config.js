/** @type {import('jest').Config} */
const common = {
    preset: 'ts-jest',
    testEnvironment: 'node',
    setupFiles: ['<rootDir>/test/support/quietTestMode.ts'],
    // The deployment package (npm run package) holds a second package.json of the same name.
    modulePathIgnorePatterns: ['<rootDir>/.package/'],
    transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

module.exports = {
    projects: [
        { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
        { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
        { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    ],
    maxWorkers: 2,
};
