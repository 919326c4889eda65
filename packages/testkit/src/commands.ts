import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** True when `command` is an executable on PATH. */
export function hasCommand(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/** The commands of `peers` that are not installed. */
export function missingPeers(peers: readonly string[]): string[] {
  return peers.filter((p) => !hasCommand(p));
}
