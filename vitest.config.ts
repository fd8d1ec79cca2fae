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
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
