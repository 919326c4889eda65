import { defineConfig } from 'tsup';
import { appConfig } from '../../tsup.shared';

// The dnet packages are bundled into the executable: one file that runs the
// same whatever state the workspace packages' own builds are in.
export default defineConfig({ ...appConfig({ cli: 'src/cli.ts' }), noExternal: [/^@dnet\//] });
