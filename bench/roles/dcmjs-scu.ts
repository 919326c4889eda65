// Bench role: dcmjs-dimse (the npm package) storing files over one
// association, in its own process. Prints one JSON line with its timing.
//   node --import tsx bench/roles/dcmjs-scu.ts --port P --files LIST
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import dimse from 'dcmjs-dimse';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    files: { type: 'string' },
    aet: { type: 'string', default: 'STORESCP' },
  },
});
const files = readFileSync(values.files as string, 'utf8')
  .split('\n')
  .filter(Boolean);
const t0 = performance.now();
let failed = 0;
await new Promise<void>((resolve, reject) => {
  const client = new dimse.Client();
  for (const f of files) {
    const request = new dimse.requests.CStoreRequest(f);
    request.on('response', (response: { getStatus(): number }) => {
      if (response.getStatus() !== dimse.constants.Status.Success) failed++;
    });
    client.addRequest(request);
  }
  client.on('networkError', reject);
  client.on('closed', () => resolve());
  client.send('127.0.0.1', Number(values.port), 'DCMJSSCU', values.aet as string);
});
const ms = performance.now() - t0;
process.stdout.write(
  `${JSON.stringify({ ms, count: files.length, failed, rssKb: process.resourceUsage().maxRSS })}\n`,
);
