// Bench role: a dnet Server in its own process (so its peak RSS is its own).
// Receives C-STORE and either discards the data set or writes Part 10 files
// (storeToFolder: temporary file, flush, rename, then success). Answers
// C-ECHO; C-FIND answers `--matches N` identical-shape matches.
//   node --import tsx bench/roles/dnet-scp.ts --port P --mode discard|write
//     [--dir D] [--tls CERT,KEY] [--max-pdu N] [--max-associations N] [--gc-every-mib N]
// Discarding, it asks V8 for a young-generation collection each N MiB
// received (default 8, as dnet-scp does; 0: left to V8): see @dnet/services
// gc-pacing.ts for what those collections save.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Server, storeToFolder } from '@dnet/services';
import { GcPacer, youngGenerationCollector } from '@dnet/services/internal';
import { tls } from '@dnet/tls';
import { tcp } from '@dnet/transport-tcp';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'discard' },
    dir: { type: 'string' },
    tls: { type: 'string' },
    'max-pdu': { type: 'string', default: String(256 * 1024) },
    'max-associations': { type: 'string', default: '64' },
    matches: { type: 'string', default: '1000' },
    'gc-every-mib': { type: 'string', default: '8' },
  },
});

const [cert, key] = values.tls?.split(',') ?? [];
const transport = cert && key ? tls({ cert: readFileSync(cert), key: readFileSync(key) }) : tcp();
const write = values.mode === 'write';
const dir = values.dir;
if (write && !dir) throw new Error('--mode write needs --dir');
const matches = Number(values.matches);
const gcEveryMib = Number(values['gc-every-mib']);
const pacer =
  gcEveryMib > 0 ? new GcPacer(youngGenerationCollector(), gcEveryMib * 1024 * 1024) : undefined;

const server = await Server.listen({
  transport,
  host: '127.0.0.1',
  port: Number(values.port),
  aeTitle: 'DNETSCP',
  maxAssociations: Number(values['max-associations']),
  policy: { maxPduLength: Number(values['max-pdu']) },
  handlers: {
    echo: () => 0,
    store: async (instance) => {
      if (write) return storeToFolder(dir as string)(instance, {});
      for await (const chunk of instance.dataSet) pacer?.received(chunk.length);
      return 0;
    },
    find: async function* () {
      for (let i = 0; i < matches; i++) {
        yield {
          '00080018': { vr: 'UI', Value: [`2.25.99.${i + 1}`] },
          '00100010': { vr: 'PN', Value: [{ Alphabetic: 'BENCH^PATIENT' }] },
          '0020000D': { vr: 'UI', Value: ['2.25.1234567890.2'] },
        };
      }
    },
  },
});
server.on('error', () => {});
process.stdout.write(`listening on 127.0.0.1:${server.port}\n`);
// CPU time (user + system, ms) spent after start-up, printed at exit on stderr.
const cpu0 = process.cpuUsage();
process.once('SIGTERM', () => {
  const cpu = process.cpuUsage(cpu0);
  process.stderr.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  void server.close({ timeoutMs: 2000 }).then(() => process.exit(0));
});
