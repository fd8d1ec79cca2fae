import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Workspace packages resolve to their TypeScript sources, so tests never run a stale build.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@scaibunker\/db\/testing$/, replacement: source('db/src/testing/index.ts') },
      { find: /^@scaibunker\/([a-z]+)$/, replacement: source('$1/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The PostgreSQL pass repeats what touches a database; microVM tests use none, and run once.
    exclude: process.env.SCAIBUNKER_TEST_DATABASE === 'postgres' ? ['packages/worker/**', 'packages/link/**', 'test/e2e/vm-*.test.ts', '**/node_modules/**'] : ['**/node_modules/**'],
    pool: 'forks',
    // Removes the temp data directories the run's tests made, when it ends.
    globalSetup: ['test/temp-dirs.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
