#!/usr/bin/env node
// `prepack` of every published package: copies the repository's LICENSE into
// the package folder, so the tarball carries it (npm and pnpm always pack a
// LICENSE file at the package root). The copies are git-ignored; the root
// LICENSE is the one to edit.
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

copyFileSync(fileURLToPath(new URL('../LICENSE', import.meta.url)), 'LICENSE');
