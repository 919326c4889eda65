import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describePeer, freePort, hasCommand, runTool, startPeer, waitForPort } from './index.js';

describe('testkit', () => {
  it('finds a free port that can be listened on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    await waitForPort(port, { timeoutMs: 2_000 });
    await new Promise((r) => server.close(r));
  });

  it('knows which commands exist', () => {
    expect(hasCommand('node')).toBe(true);
    expect(hasCommand('no-such-command-dnet')).toBe(false);
  });

  it('starts a peer, waits for it to listen and kills it by PID', async () => {
    const peer = await startPeer({
      command: process.execPath,
      args: (port) => [
        '-e',
        `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`,
      ],
    });
    // Listening comes before the child's stdout reaches us: wait (bounded) for its line.
    for (let i = 0; i < 100 && !peer.log().includes('up'); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(peer.log()).toContain('up');
    await peer.stop();
    expect(peer.process.killed || peer.process.exitCode !== null).toBe(true);
  });

  it('reports a peer that exits before listening', async () => {
    await expect(
      startPeer({ command: process.execPath, args: () => ['-e', 'process.exit(3)'] }),
    ).rejects.toThrow(/exited \(3\)/);
  });

  it('runs a tool to completion', async () => {
    const r = await runTool(process.execPath, ['-e', 'console.log(42)']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('42');
  });
});

describePeer(['echoscu'], 'testkit with DCMTK', () => {
  it('runs echoscu --version', async () => {
    const r = await runTool('echoscu', ['--version']);
    expect(r.stdout).toMatch(/echoscu v3\.\d/);
  });
});
