import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.shared';

// `internal`: benchmark and app tuning, outside the stable API (src/internal.ts).
export default defineConfig(libraryConfig({ index: 'src/index.ts', internal: 'src/internal.ts' }));
