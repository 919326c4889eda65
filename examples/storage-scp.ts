/**
 * A minimal storage SCP: a dnet `Server` that accepts Verification and every
 * Storage SOP class (PS3.4 Annexes A and B) and writes each instance it
 * receives to `<out-dir>/<SOP Instance UID>.dcm` as a Part 10 file (PS3.10
 * §7.1), the data set streamed to disk as it arrives. Stops on Ctrl-C.
 *
 * Run (from the repository, after `pnpm build`):
 *   pnpm --filter @dnet/examples exec tsx storage-scp.ts 11112 ./received
 * then, for instance: storescu 127.0.0.1 11112 ct.dcm
 * Environment: AE_TITLE (default DNET-SCP); HOST (default 127.0.0.1; 0.0.0.0 to
 * accept other machines).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writePart10File } from '@dnet/dataset';
import { Server } from '@dnet/services';
import { tcp } from '@dnet/transport-tcp';

const [port = '11112', outDir = './received'] = process.argv.slice(2);
await mkdir(outDir, { recursive: true });

const server = await Server.listen({
  transport: tcp(),
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(port),
  aeTitle: process.env.AE_TITLE ?? 'DNET-SCP',
  handlers: {
    // Answering C-ECHO is built in; `store` makes the Server a Storage SCP.
    store: async (instance, context) => {
      // A UID is digits and dots (PS3.5 §9.1): never a path from the network.
      if (!/^[0-9.]{1,64}$/.test(instance.sopInstanceUid)) return 0xc000; // Cannot understand (PS3.4 B.2.3)
      const path = join(outDir, `${instance.sopInstanceUid}.dcm`);
      await writePart10File(
        path,
        {
          mediaStorageSopClassUid: instance.sopClassUid,
          mediaStorageSopInstanceUid: instance.sopInstanceUid,
          transferSyntaxUid: instance.transferSyntaxUid,
          sourceApplicationEntityTitle: context.callingAeTitle,
        },
        instance.dataSet,
      );
      console.log(`stored ${path} from ${context.callingAeTitle}`);
      return 0; // Success
    },
  },
});
server.on('error', (error) => console.error(`error: ${error.message}`));
console.log(`listening on ${server.host}:${server.port} as ${process.env.AE_TITLE ?? 'DNET-SCP'}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    // Lets associations in progress finish, for at most 5 s.
    server.close({ timeoutMs: 5000 }).then(() => console.log('stopped'));
  });
