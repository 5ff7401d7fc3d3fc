// The package version, kept in step with package.json by tests/registry.test.ts.
export const VERSION = '0.1.0';
