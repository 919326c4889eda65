import { defineConfig } from 'vitest/config';

// One vitest project per package and app (each folder's vitest.config.ts).
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tests/*', 'bench', 'examples'],
  },
});
