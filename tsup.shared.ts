import type { Options } from 'tsup';

/**
 * The one tsup setup every library package uses: ESM + CJS + .d.ts from the
 * entries given, for Node 20.
 */
export function libraryConfig(entry: Record<string, string> = { index: 'src/index.ts' }): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
  };
}

/** The tsup setup of the sample apps: one ESM executable with a shebang. */
export function appConfig(entry: Record<string, string>): Options {
  return {
    entry,
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
  };
}
