// The ```ts blocks of the READMEs a user reads (the root's, each package's and
// each app's), for scripts/check-tarballs.mjs to type-check against the packed
// packages, so the examples cannot rot. Each block is a whole program: its
// imports included. A block that is deliberately a fragment uses another info
// string (```js, or ```ts fragment) and is not checked.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** `{ source, line, code }` for every ```ts block; `line` is the README line of its first code line. */
export function readmeBlocks(root) {
  const readmes = ['README.md'];
  for (const parent of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, parent))) {
      const rel = `${parent}/${name}/README.md`;
      if (existsSync(join(root, rel))) readmes.push(rel);
    }
  }
  const blocks = [];
  for (const source of readmes) {
    const lines = readFileSync(join(root, source), 'utf8').split('\n');
    let open;
    for (let i = 0; i < lines.length; i++) {
      const fence = /^```(.*)$/.exec(lines[i].trim());
      if (!fence) continue;
      if (open === undefined) {
        open = { info: fence[1].trim(), start: i + 1 };
      } else {
        if (open.info === 'ts' || open.info === 'typescript') {
          blocks.push({
            source,
            line: open.start + 1,
            code: lines.slice(open.start, i).join('\n'),
          });
        }
        open = undefined;
      }
    }
  }
  return blocks;
}
