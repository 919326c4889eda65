// Bench role: a dnet Client in its own process. Prints one JSON line with
// its own timing (connect to release), so process start-up is not counted.
//   node bench/.build/dnet-scu.js --op store|store-memory|echo|assoc|find|populate|concurrent
//     --port P [--files LIST] [--window N] [--count N] [--parallel N] [--tls CA] [--max-pdu N]
//     [--warmup LIST] [--warm N] [--mib M] [--uid-prefix UID]
// Warm-up (untimed, before the timed part, same process, same receiver), as a
// long-lived client would have run before: `--warmup LIST` stores those files
// (store), `--warm N` stores N small in-memory images (store-memory), sends N
// C-ECHOs (echo), makes N associations (assoc) or runs one full C-FIND (find),
// each with the same window / parallelism as the timed part.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DataSet } from '@dnet/dataset';
import {
  Client,
  type ClientOptions,
  queryRetrieve,
  SopClass,
  type StoreSource,
  storage,
  verification,
} from '@dnet/services';
import { tls } from '@dnet/tls';
import { tcp } from '@dnet/transport-tcp';
import { splitList, WARM_ASSOCIATIONS } from '../rows.js';

const { values } = parseArgs({
  options: {
    op: { type: 'string', default: 'store' },
    port: { type: 'string' },
    aet: { type: 'string', default: 'DNETSCP' },
    files: { type: 'string' },
    warmup: { type: 'string' },
    warm: { type: 'string', default: '0' },
    mib: { type: 'string', default: '32' },
    'uid-prefix': { type: 'string', default: '2.25.1234567890.9' },
    window: { type: 'string', default: '1' },
    count: { type: 'string', default: '1' },
    parallel: { type: 'string', default: '1' },
    per: { type: 'string', default: '50' },
    size: { type: 'string', default: '512' },
    tls: { type: 'string' },
    'max-pdu': { type: 'string', default: String(256 * 1024) },
  },
});

const ENHANCED_CT = '1.2.840.10008.5.1.4.1.1.2.1';
const window = Number(values.window);
const count = Number(values.count);
const warm = Number(values.warm);
const options: ClientOptions = {
  transport: values.tls ? tls({ ca: readFileSync(values.tls) }) : tcp(),
  host: '127.0.0.1',
  port: Number(values.port),
  callingAeTitle: 'DNETSCU',
  calledAeTitle: values.aet,
  contexts: [
    verification(),
    storage([SopClass.CT_IMAGE_STORAGE, ENHANCED_CT]),
    queryRetrieve('study', { operations: ['find'] }),
  ],
  maxPduLength: Number(values['max-pdu']),
  ...(window > 1 && { maxOperations: window }),
  // As the dnet-scu app connects: small files read with blocking calls.
  blockingFileReads: true,
};

/** A CT image in memory: distinct UIDs, one shared pixel buffer. */
function image(
  pixels: Uint8Array,
  series: string,
  n: number,
  sopClass: string = SopClass.CT_IMAGE_STORAGE,
): DataSet {
  const ds = new DataSet();
  ds.setString('SOPClassUID', sopClass, 'UI');
  ds.setString('SOPInstanceUID', `${series}.${n}`, 'UI');
  ds.setString('PatientName', 'BENCH^PATIENT', 'PN');
  ds.setString('PatientID', 'BENCH1', 'LO');
  ds.setString('StudyInstanceUID', '2.25.1234567890.2', 'UI');
  ds.setString('SeriesInstanceUID', series, 'UI');
  ds.setString('Modality', 'CT', 'CS');
  ds.setBytes('PixelData', pixels, 'OW');
  return ds;
}

/** `n` C-ECHOs on `client`, `window` outstanding at a time. */
async function echoes(client: Client, n: number): Promise<void> {
  let sent = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(window, n)) }, async () => {
      while (sent < n) {
        sent++;
        await client.echo();
      }
    }),
  );
}

/** `n` associations (associate, echo, release), `parallel` under way at a time. */
async function associations(n: number, parallel: number): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(parallel, n)) }, async () => {
      while (started < n) {
        started++;
        const client = await Client.connect(options);
        await client.echo();
        await client.release();
      }
    }),
  );
}

/** The C-FIND of the find op: every image of the populated series. */
async function findAll(client: Client): Promise<{ n: number; firstMs: number }> {
  const t1 = performance.now();
  let first = 0;
  let n = 0;
  for await (const _ of client.find(
    {
      '0020000D': { vr: 'UI', Value: ['2.25.1234567890.2'] },
      '0020000E': { vr: 'UI', Value: ['2.25.1234567890.7'] },
      '00080018': { vr: 'UI' },
    },
    { level: 'IMAGE' },
  )) {
    if (n++ === 0) first = performance.now() - t1;
  }
  return { n, firstMs: first };
}

let large: Uint8Array | undefined;
/** The Pixel Data of store-memory: `--mib` MiB, one buffer kept for every object. */
function largePixels(): Uint8Array {
  if (!large) {
    large = new Uint8Array(Number(values.mib) * 2 ** 20);
    for (let i = 0; i < large.length; i += 4096) large[i] = i & 0xff;
  }
  return large;
}

const parallel = Math.max(1, Number(values.parallel));
const uidPrefix = values['uid-prefix'] as string;

/**
 * Stores `sources` untimed over WARM_ASSOCIATIONS associations of their own,
 * one after the other; the last one is left open and returned.
 */
async function warmOver(sources: StoreSource[]): Promise<Client> {
  let client = await Client.connect(options);
  for (const [i, part] of splitList(sources, WARM_ASSOCIATIONS).entries()) {
    if (i > 0) {
      await client.release();
      client = await Client.connect(options);
    }
    await client.storeMany(part, { concurrency: window });
  }
  return client;
}

// Warm-up (untimed), over its own association(s), into the same receiver: the
// timed part then runs on JIT-compiled code, as in a long-lived client.
if (values.warmup && (values.op === 'store' || values.op === 'store-memory')) {
  const list = readFileSync(values.warmup, 'utf8').split('\n').filter(Boolean);
  await (await warmOver(list)).release();
}
if (warm > 0) {
  switch (values.op) {
    case 'store-memory': {
      // Small in-memory images (512x512x16 bit), then objects of the timed
      // size: without them the first large store still pays for its own cold
      // path (measured: 112 ms of sender CPU for the first 4 x 32 MiB after
      // 300 small images only, 38 ms for the next 4, and 39 ms after one large one).
      const pixels = new Uint8Array(512 * 512 * 2);
      const series = `${uidPrefix}.0`;
      const client = await warmOver(
        Array.from({ length: warm }, (_, i) => image(pixels, series, i + 1)),
      );
      // Eight of them, so the receiver's large-object path is warm too.
      for (let i = 1; i <= 8; i++)
        await client.store(image(largePixels(), series, warm + i, ENHANCED_CT));
      await client.release();
      break;
    }
    case 'echo': {
      const client = await Client.connect(options);
      await echoes(client, warm);
      await client.release();
      break;
    }
    case 'assoc':
      await associations(warm, parallel);
      break;
    case 'find': {
      const client = await Client.connect(options);
      await findAll(client);
      await client.release();
      break;
    }
  }
}

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const out: Record<string, number> = {};
switch (values.op) {
  case 'store': {
    const files = readFileSync(values.files as string, 'utf8')
      .split('\n')
      .filter(Boolean);
    const client = await Client.connect(options);
    // One batch, like storescu's list of files: with window 1 one operation at a
    // time, the next files read while this one is sent (storeMany's prefetch).
    const r = await client.storeMany(files, { concurrency: window });
    out.failed = r.failed;
    await client.release();
    out.count = files.length;
    break;
  }
  case 'store-memory': {
    // `count` objects of `--mib` MiB built in memory (one pixel buffer kept for
    // all, distinct SOP Instance UIDs), stored one after the other: what is
    // sent comes from memory, like the socket ceiling's writes.
    const pixels = largePixels();
    const client = await Client.connect(options);
    const series = `${uidPrefix}.1`;
    for (let i = 0; i < count; i++) {
      await client.store(image(pixels, series, i + 1, ENHANCED_CT));
    }
    await client.release();
    out.count = count;
    break;
  }
  case 'echo': {
    // `--window N`: N C-ECHOs outstanding at a time on the one association
    // (asynchronous operations window, PS3.7 §D.3.3.3); 1: one after the other.
    const client = await Client.connect(options);
    const t1 = performance.now();
    await echoes(client, count);
    out.loopMs = performance.now() - t1;
    await client.release();
    out.count = count;
    out.window = window;
    break;
  }
  case 'assoc': {
    // `--parallel N`: N associations under way at a time (each: associate, echo,
    // release), `count` in all; 1 (the default) runs them one after the other.
    await associations(count, parallel);
    out.count = count;
    out.parallel = parallel;
    break;
  }
  case 'populate': {
    const pixels = new Uint8Array(Number(values.size) ** 2 * 2);
    const client = await Client.connect({ ...options, maxOperations: 8 });
    const series = '2.25.1234567890.7';
    const sources = Array.from({ length: count }, (_, i) => image(pixels, series, i + 1));
    const r = await client.storeMany(sources, { concurrency: 8 });
    await client.release();
    out.count = r.stored;
    out.failed = r.failed;
    break;
  }
  case 'find': {
    const client = await Client.connect(options);
    const t1 = performance.now();
    const r = await findAll(client);
    out.loopMs = performance.now() - t1;
    out.firstMs = r.firstMs;
    await client.release();
    out.count = r.n;
    break;
  }
  case 'concurrent': {
    // `count` associations at once, each storing `per` distinct images.
    const per = Number(values.per);
    const pixels = new Uint8Array(Number(values.size) ** 2 * 2);
    let stored = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: count }, async (_, a) => {
        const client = await Client.connect(options);
        const series = `2.25.1234567890.8.${a + 1}`;
        for (let i = 0; i < per; i++) {
          try {
            await client.store(image(pixels, series, i + 1));
            stored++;
          } catch {
            failed++;
          }
        }
        await client.release();
      }),
    );
    out.count = stored;
    out.failed = failed;
    break;
  }
  default:
    throw new Error(`unknown --op ${values.op}`);
}
out.ms = performance.now() - t0;
// CPU time of this process over the timed part (user + system, ms): less sensitive
// than wall time to the load of a shared machine.
const cpu = process.cpuUsage(cpu0);
out.cpuMs = (cpu.user + cpu.system) / 1000;
out.rssKb = Math.round(process.resourceUsage().maxRSS);
process.stdout.write(`${JSON.stringify(out)}\n`);
