import { defineConfig } from 'tsup';
import { appConfig } from '../../tsup.shared';

// The server's modules are dynamic imports of cli.ts and main.ts: split into
// chunks of their own, they load only when the command serves or describes
// (`--help` and `--version` start without them).
export default defineConfig({ ...appConfig({ cli: 'src/cli.ts' }), splitting: true });
