import { defineConfig } from 'tsup';
import { appConfig } from '../../tsup.shared';

export default defineConfig(appConfig({ cli: 'src/cli.ts' }));
