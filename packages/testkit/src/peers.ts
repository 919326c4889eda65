import { describe, it } from 'vitest';
import { missingPeers } from './commands.js';

/**
 * A `describe` block for tests that need real peers (DCMTK tools, Orthanc).
 * When a peer is missing: outside CI the block is skipped with a printed
 * reason; with `CI` set it fails, since CI installs every peer.
 */
export function describePeer(peers: readonly string[], name: string, body: () => void): void {
  const missing = missingPeers(peers);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reason = `missing peer(s): ${missing.join(', ')} (Debian packages: dcmtk, orthanc, testssl.sh; .ci/run installs them)`;
  if (process.env.CI) {
    describe(name, () => {
      it('has its peers installed', () => {
        throw new Error(`CI is set and ${reason}`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: ${reason}`);
  describe.skip(`${name} (skipped: ${reason})`, body);
}
