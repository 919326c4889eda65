// C-STORE throughput of the hot path over TCP on 127.0.0.1: our Client sends
// Part 10 files (data set streamed from disk, not parsed) to our Server,
// whose store handler reads each data set stream to its end. Also C-ECHO
// round trips. Run on its own: pnpm exec tsx packages/services/bench/store.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DataSet, writePart10File } from '@dnet/dataset';
import { tcp } from '@dnet/transport-tcp';
import { type Result, summarize } from '../../../bench/stats.js';
import { Client, Server, SopClass, storage, verification } from '../src/index.js';

export type { Result };

const FILES = 16;
const PIXELS = 4 * 1024 * 1024;
const RUNS = 5;
const ECHOES = 500;

export async function run(): Promise<Result[]> {
  const dir = await mkdtemp(join(tmpdir(), 'dnet-bench-store-'));
  const files: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const ds = new DataSet();
    const uid = `2.25.42${i}`;
    ds.setString('SOPClassUID', SopClass.CT_IMAGE_STORAGE, 'UI');
    ds.setString('SOPInstanceUID', uid, 'UI');
    ds.setBytes('PixelData', new Uint8Array(PIXELS).fill(i), 'OW');
    const path = join(dir, `${uid}.dcm`);
    await writePart10File(
      path,
      {
        mediaStorageSopClassUid: SopClass.CT_IMAGE_STORAGE,
        mediaStorageSopInstanceUid: uid,
        transferSyntaxUid: '1.2.840.10008.1.2.1',
      },
      ds,
    );
    files.push(path);
  }
  let bytes = 0;
  const server = await Server.listen({
    transport: tcp(),
    host: '127.0.0.1',
    port: 0,
    aeTitle: 'BENCH',
    policy: { maxPduLength: 1 << 20 },
    handlers: {
      store: async (instance) => {
        for await (const c of instance.dataSet) bytes += c.length;
      },
    },
  });
  const throughput: number[] = [];
  const echoes: number[] = [];
  try {
    const client = await Client.connect({
      transport: tcp(),
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'BENCHSCU',
      calledAeTitle: 'BENCH',
      contexts: [verification(), storage(SopClass.CT_IMAGE_STORAGE)],
      maxPduLength: 1 << 20,
    });
    for (let r = 0; r <= RUNS; r++) {
      bytes = 0;
      const t0 = performance.now();
      for (const f of files) await client.store(f);
      const ms = performance.now() - t0;
      if (r > 0) throughput.push(bytes / 1024 / 1024 / (ms / 1000));
    }
    for (let r = 0; r <= RUNS; r++) {
      const t0 = performance.now();
      for (let i = 0; i < ECHOES; i++) await client.echo();
      const ms = performance.now() - t0;
      if (r > 0) echoes.push(ECHOES / (ms / 1000));
    }
    await client.release();
  } finally {
    await server.close({ timeoutMs: 1000 });
    await rm(dir, { recursive: true, force: true });
  }
  return [
    summarize(
      `services: C-STORE ${FILES}x${PIXELS >> 20} MiB files, tcp, 1 MiB PDU`,
      'MiB/s',
      throughput,
    ),
    summarize('services: C-ECHO round trips, tcp', 'echo/s', echoes),
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    console.log(
      `${r.name}: median ${r.median.toFixed(1)} ${r.unit} (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)})`,
    );
  }
}
