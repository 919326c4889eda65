import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { haproxyServers } from './haproxy.js';

it("reads a backend's servers from `show stat` by the header's column names", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dnet-haproxy-stat-'));
  const socket = join(dir, 'admin.sock');
  const asked: string[] = [];
  // A stand-in for HAProxy's admin socket: answers `show stat` with CSV and closes.
  const server = createServer((conn) => {
    conn.once('data', (d) => {
      asked.push(d.toString());
      conn.end(
        [
          '# pxname,svname,qcur,status,check_status',
          'front,FRONTEND,,OPEN,',
          'dicom,node-1,0,UP,L7OK',
          'dicom,node-2,0,DOWN,* L4CON',
          'dicom,BACKEND,0,UP,',
          'other,node-1,0,MAINT,',
          '',
        ].join('\n'),
      );
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  try {
    expect(await haproxyServers(socket, 'dicom')).toEqual([
      { name: 'node-1', status: 'UP', check: 'L7OK' },
      { name: 'node-2', status: 'DOWN', check: 'L4CON' },
    ]);
    expect(asked).toEqual(['show stat\n']);
    await expect(haproxyServers(join(dir, 'none.sock'), 'dicom')).rejects.toThrow(/ENOENT/);
  } finally {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  }
});
