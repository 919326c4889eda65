import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Tests import sibling packages by their public names (`@dnet/pdu`); inside the
 * repository those names point at the sources, so a test never runs against a
 * stale build. Subpath exports (`@dnet/transport/testing`) map to `src/<sub>.ts`.
 */
function workspaceAliases() {
  const aliases: { find: RegExp; replacement: string }[] = [];
  for (const folder of readdirSync(join(root, 'packages'))) {
    const src = join(root, 'packages', folder, 'src');
    aliases.push(
      { find: new RegExp(`^@dnet/${folder}$`), replacement: join(src, 'index.ts') },
      { find: new RegExp(`^@dnet/${folder}/(.+)$`), replacement: `${src}/$1.ts` },
    );
  }
  return aliases;
}

/** The vitest project of one package or app, named after its folder. */
export function project(dir: string, options: UserWorkspaceConfig['test'] = {}) {
  return defineProject({
    resolve: { alias: workspaceAliases() },
    test: {
      name: resolve(dir).split('/').pop(),
      root: dir,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...options,
    },
  });
}
