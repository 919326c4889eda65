import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.shared';

// `shims`: the CommonJS build needs `import.meta.url` for createRequire (wasm-module.ts).
export default defineConfig({ ...libraryConfig({ index: 'src/index.ts' }), shims: true });
