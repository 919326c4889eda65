// The bench's Node roles compiled once to plain JavaScript (bench/.build/,
// git-ignored), so that every measured process is `node file.js`: no tsx
// loader (its start-up, its memory, its per-module transform) in what is
// measured. Each role is one ESM file; @dnet/* and dcmjs-dimse stay external,
// so they resolve from bench/node_modules to the packages' built dist/, as a
// user's program would load them.
import { resolve } from 'node:path';
import { build } from 'tsup';

/** Where the compiled roles go. */
export const BUILD_DIR = resolve('bench/.build');

/** Output name (without .js) -> TypeScript source, relative to the repository root. */
export const ROLE_SOURCES = {
  'dnet-scu': 'bench/roles/dnet-scu.ts',
  'dnet-scp': 'bench/roles/dnet-scp.ts',
  'dcmjs-scu': 'bench/roles/dcmjs-scu.ts',
  socket: 'bench/roles/socket.ts',
  objects: 'bench/roles/objects.ts',
  'socket-ceiling': 'bench/socket-ceiling.ts',
} as const satisfies Record<string, string>;

/** A role's name, as given to {@link nodeRole}. */
export type RoleName = keyof typeof ROLE_SOURCES;

/** Compiles every role into {@link BUILD_DIR}; resolves once written. */
export async function buildRoles(): Promise<void> {
  await build({
    entry: ROLE_SOURCES,
    outDir: BUILD_DIR,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    bundle: true,
    // Every package import (@dnet/*, dcmjs-dimse) stays an import: the built
    // dist/ of the workspace packages is what is measured.
    skipNodeModulesBundle: true,
    splitting: false,
    sourcemap: true,
    dts: false,
    clean: true,
    config: false,
    silent: true,
    outExtension: () => ({ js: '.js' }),
    // Keep `node:fs` as written (tsup strips the prefix by default).
    removeNodeProtocol: false,
  });
}
