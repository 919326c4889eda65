/**
 * Store a folder with progress: C-STORE (PS3.4 Annex B) of every DICOM file
 * under the paths given, over as many associations as the files' SOP classes
 * need (`planStorage`: one presentation context per SOP class and kind of
 * encoding, at most 128 per association, PS3.8 §9.3.2.2), with one line of
 * progress per file.
 *
 * Run (from the repository, after `pnpm build`):
 *   pnpm --filter @dnet/examples exec tsx store-folder.ts 127.0.0.1 11112 ./studies
 * Environment: CALLED_AE (default ANY-SCP), CALLING_AE (default DNET).
 * Exit status 0 when every file was stored, 1 otherwise.
 */
import { Client, planStorage } from '@dnet/services';
import { tcp } from '@dnet/transport-tcp';

const [host = '127.0.0.1', port = '11112', ...paths] = process.argv.slice(2);
if (paths.length === 0) throw new Error('usage: store-folder.ts <host> <port> <file-or-folder>...');

const plans = await planStorage(paths, {
  onSkip: (path, reason) => console.warn(`skipped ${path}: ${reason}`),
});
const total = plans.reduce((n, plan) => n + plan.files.length, 0);
let done = 0;
let failed = 0;
for (const plan of plans) {
  const client = await Client.connect({
    transport: tcp(),
    host,
    port: Number(port),
    callingAeTitle: process.env.CALLING_AE ?? 'DNET',
    calledAeTitle: process.env.CALLED_AE ?? 'ANY-SCP',
    contexts: plan.contexts,
  });
  try {
    const result = await client.storeMany(plan, {
      onProgress: ({ source, result }) => {
        done++;
        const outcome = result instanceof Error ? `failed: ${result.message}` : 'stored';
        console.log(`[${done}/${total}] ${String(source)} ${outcome}`);
      },
    });
    failed += result.failed;
  } finally {
    await client.release();
  }
}
console.log(`stored ${total - failed} of ${total} files over ${plans.length} association(s)`);
process.exitCode = failed === 0 && total > 0 ? 0 : 1;
