/** @type {import('jest').Config} */
const common = {
    preset: 'ts-jest',
    testEnvironment: 'node',
    setupFiles: ['<rootDir>/test/support/quietTestMode.ts'],
    // The deployment package (npm run package) holds a second package.json of the same name.
    modulePathIgnorePatterns: ['<rootDir>/.package/'],
    transform: {
        '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
        // github-slugger (the docs' link check) is an ES module only: compiled to CommonJS for Jest.
        '^.+/node_modules/github-slugger/.+\\.js$': [
            'ts-jest',
            { tsconfig: { allowJs: true, module: 'commonjs', moduleResolution: 'node10' }, isolatedModules: true },
        ],
    },
    transformIgnorePatterns: ['/node_modules/(?!github-slugger/)'],
};

module.exports = {
    projects: [
        { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
        { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
        { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    ],
    maxWorkers: 2,
};
