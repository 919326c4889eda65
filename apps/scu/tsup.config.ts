import { defineConfig } from 'tsup';
import { appConfig } from '../../tsup.shared';

// The dnet packages are bundled into the executable: one file that runs the
// same whatever state the workspace packages' own builds are in. Their CommonJS
// dependencies (iconv-lite, bundled with @dnet/dataset) call require() for
// Node's built-ins, which an ES module lacks: the banner gives them one.
export default defineConfig({
  ...appConfig({ cli: 'src/cli.ts' }),
  noExternal: [/^@dnet\//],
  // Each command's dynamic import (src/main.ts) becomes a chunk of its own
  // beside cli.js, loaded when that command runs: the entry a process parses
  // and runs first is only the dispatcher.
  splitting: true,
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __dnetCreateRequire } from 'node:module';",
      'const require = __dnetCreateRequire(import.meta.url);',
    ].join('\n'),
  },
});
