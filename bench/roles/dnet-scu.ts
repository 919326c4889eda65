// Bench role: a dnet Client in its own process. Prints one JSON line with
// its own timing (connect to release), so process start-up is not counted.
//   node --import tsx bench/roles/dnet-scu.ts --op store|echo|assoc|find|populate|concurrent
//     --port P [--files LIST] [--window N] [--count N] [--parallel N] [--tls CA] [--max-pdu N]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DataSet } from '@dnet/dataset';
import {
  Client,
  type ClientOptions,
  queryRetrieve,
  SopClass,
  storage,
  verification,
} from '@dnet/services';
import { tls } from '@dnet/tls';
import { tcp } from '@dnet/transport-tcp';

const { values } = parseArgs({
  options: {
    op: { type: 'string', default: 'store' },
    port: { type: 'string' },
    aet: { type: 'string', default: 'DNETSCP' },
    files: { type: 'string' },
    warmup: { type: 'string' },
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
};

/** A CT image in memory: distinct UIDs, one shared pixel buffer. */
function image(pixels: Uint8Array, series: string, n: number): DataSet {
  const ds = new DataSet();
  ds.setString('SOPClassUID', SopClass.CT_IMAGE_STORAGE, 'UI');
  ds.setString('SOPInstanceUID', `${series}.${n}`, 'UI');
  ds.setString('PatientName', 'BENCH^PATIENT', 'PN');
  ds.setString('PatientID', 'BENCH1', 'LO');
  ds.setString('StudyInstanceUID', '2.25.1234567890.2', 'UI');
  ds.setString('SeriesInstanceUID', series, 'UI');
  ds.setString('Modality', 'CT', 'CS');
  ds.setBytes('PixelData', pixels, 'OW');
  return ds;
}

// Warm-up (untimed): the files of --warmup over their own association, so
// the timed part runs on JIT-compiled code like a long-lived client would.
if (values.warmup) {
  const warm = readFileSync(values.warmup, 'utf8').split('\n').filter(Boolean);
  const client = await Client.connect(options);
  for (const f of warm) await client.store(f);
  await client.release();
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
  case 'echo': {
    const client = await Client.connect(options);
    const t1 = performance.now();
    for (let i = 0; i < count; i++) await client.echo();
    out.loopMs = performance.now() - t1;
    await client.release();
    out.count = count;
    break;
  }
  case 'assoc': {
    // `--parallel N`: N associations under way at a time (each: associate, echo,
    // release), `count` in all; 1 (the default) runs them one after the other.
    const parallel = Math.max(1, Number(values.parallel));
    let started = 0;
    await Promise.all(
      Array.from({ length: Math.min(parallel, count) }, async () => {
        while (started < count) {
          started++;
          const client = await Client.connect(options);
          await client.echo();
          await client.release();
        }
      }),
    );
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
    out.loopMs = performance.now() - t1;
    out.firstMs = first;
    await client.release();
    out.count = n;
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
