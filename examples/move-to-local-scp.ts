/**
 * C-MOVE with a local storage SCP (PS3.4 §C.4.2): asks the peer to send a
 * study to our own AE title; the peer opens a new association to the storage
 * SCP started here and sends each instance with C-STORE (the sub-operations),
 * which are written to `<out-dir>/<SOP Instance UID>.dcm`. The peer must know
 * our AE title, host and port (its table of move destinations).
 *
 * Run (from the repository, after `pnpm build`):
 *   pnpm --filter @dnet/examples exec tsx move-to-local-scp.ts 127.0.0.1 11112 1.2.3.4 ./moved
 * Environment: CALLED_AE (default ANY-SCP); MOVE_AE (our AE title, the move
 * destination, default DNET-MOVE); MOVE_PORT (where our storage SCP listens,
 * default 11113).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writePart10File } from '@dnet/dataset';
import { Client, queryRetrieve, Server } from '@dnet/services';
import { tcp } from '@dnet/transport-tcp';

const [host = '127.0.0.1', port = '11112', studyUid, outDir = './moved'] = process.argv.slice(2);
if (!studyUid)
  throw new Error('usage: move-to-local-scp.ts <host> <port> <StudyInstanceUID> [out-dir]');
const moveAe = process.env.MOVE_AE ?? 'DNET-MOVE';
await mkdir(outDir, { recursive: true });

// 1. The storage SCP the sub-operations come to.
const scp = await Server.listen({
  transport: tcp(),
  host: '127.0.0.1',
  port: Number(process.env.MOVE_PORT ?? 11113),
  aeTitle: moveAe,
  handlers: {
    store: async (instance) => {
      if (!/^[0-9.]{1,64}$/.test(instance.sopInstanceUid)) return 0xc000; // PS3.5 §9.1
      const meta = {
        mediaStorageSopClassUid: instance.sopClassUid,
        mediaStorageSopInstanceUid: instance.sopInstanceUid,
        transferSyntaxUid: instance.transferSyntaxUid,
      };
      await writePart10File(join(outDir, `${instance.sopInstanceUid}.dcm`), meta, instance.dataSet);
      return 0;
    },
  },
});

// 2. The C-MOVE request on an association of our own.
try {
  const client = await Client.connect({
    transport: tcp(),
    host,
    port: Number(port),
    callingAeTitle: moveAe,
    calledAeTitle: process.env.CALLED_AE ?? 'ANY-SCP',
    contexts: [queryRetrieve('study', { operations: ['move'] })],
  });
  try {
    const result = await client.move(
      { StudyInstanceUID: studyUid },
      {
        level: 'STUDY',
        destination: moveAe,
        onProgress: (p) => console.log(`moving: ${p.completed} done, ${p.remaining ?? '?'} to go`),
      },
    );
    console.log(
      `moved ${result.completed} instance(s) to ${outDir} (${result.failed} failed, ${result.warning} with a warning)`,
    );
    if (result.failed > 0) process.exitCode = 1;
  } finally {
    await client.release();
  }
} finally {
  await scp.close({ timeoutMs: 5000 });
}
