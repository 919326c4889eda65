// Captures the PDU fixtures of packages/pdu/src/fixtures from real DCMTK tools and Orthanc.
// Rerun with: pnpm exec tsx packages/pdu/scripts/capture-fixtures.ts
//
// A recording TCP proxy on 127.0.0.1 sits between a DCMTK client (echoscu,
// storescu, getscu) and storescp; every PDU seen in either direction is cut at
// its header's length and the chosen ones are written as <name>.hex (the
// bytes) and <name>.txt (a readable decode made with this package). Needs
// DCMTK on PATH; not used at test time.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePdu } from '../src/decode-pdu.js';
import { formatPdu } from '../src/format-pdu.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'src', 'fixtures');
const env = { ...process.env, TCP_NODELAY: '1' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never listened`);
}

/** Cuts a byte stream into PDUs by their headers (PS3.8 §9.3.1). */
function split(stream: Buffer): Uint8Array[] {
  const pdus: Uint8Array[] = [];
  let o = 0;
  while (stream.length - o >= 6) {
    const total = 6 + stream.readUInt32BE(o + 2);
    if (stream.length - o < total) break;
    pdus.push(new Uint8Array(stream.subarray(o, o + total)));
    o += total;
  }
  return pdus;
}

interface Recording {
  /** PDUs the client sent. */
  fromClient: Uint8Array[];
  /** PDUs the server sent. */
  fromServer: Uint8Array[];
}

/** A proxy on a free port to `target`; resolves the recording of its first connection when it closes. */
async function proxy(
  target: number,
): Promise<{ port: number; server: Server; done: Promise<Recording> }> {
  const port = await freePort();
  let resolveDone!: (r: Recording) => void;
  const done = new Promise<Recording>((r) => {
    resolveDone = r;
  });
  const server = createServer((client) => {
    const up: Buffer[] = [];
    const down: Buffer[] = [];
    const upstream = createConnection({ host: '127.0.0.1', port: target, noDelay: true });
    client.setNoDelay(true);
    client.on('data', (d) => {
      up.push(d);
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      down.push(d);
      client.write(d);
    });
    let closed = 0;
    const close = () => {
      if (++closed < 2) return;
      resolveDone({ fromClient: split(Buffer.concat(up)), fromServer: split(Buffer.concat(down)) });
    };
    client.on('close', () => {
      upstream.end();
      close();
    });
    upstream.on('close', () => {
      client.end();
      close();
    });
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { port, server, done };
}

async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { env, stdio: 'inherit' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await new Promise((r) => child.once('exit', r));
  clearTimeout(timer);
}

async function withStorescp<T>(args: string[], body: (port: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const child: ChildProcess = spawn('storescp', [...args, String(port)], { env, stdio: 'ignore' });
  try {
    await waitForPort(port);
    return await body(port);
  } finally {
    child.kill('SIGTERM');
  }
}

/** Runs `command` through a recording proxy to the peer listening on `target`. */
async function captureVia(
  target: number,
  command: string,
  args: (port: number) => string[],
): Promise<Recording> {
  const p = await proxy(target);
  await run(command, args(p.port));
  const recording = await Promise.race([
    p.done,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${command}: no recording`)), 10_000),
    ),
  ]);
  p.server.close();
  return recording;
}

/** Runs `command` through a proxy to a storescp started with `scpArgs`. */
async function capture(
  scpArgs: string[],
  command: string,
  args: (port: number) => string[],
): Promise<Recording> {
  return withStorescp(scpArgs, (scpPort) => captureVia(scpPort, command, args));
}

/** Runs `body` with Orthanc (AE ORTHANC, called AE checked) listening on a free DICOM port. */
async function withOrthanc<T>(body: (port: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const dir = join(work, 'orthanc');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const config = join(dir, 'orthanc.json');
  writeFileSync(
    config,
    JSON.stringify({
      Name: 'dnet-capture',
      StorageDirectory: join(dir, 'storage'),
      IndexDirectory: join(dir, 'index'),
      HttpPort: await freePort(),
      RemoteAccessAllowed: false,
      DicomAet: 'ORTHANC',
      DicomPort: port,
      DicomCheckCalledAet: true,
      Plugins: [],
    }),
  );
  const child = spawn('Orthanc', [`--logdir=${join(dir, 'logs')}`, config], {
    env,
    stdio: 'ignore',
  });
  try {
    await waitForPort(port);
    return await body(port);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

function save(name: string, pdu: Uint8Array | undefined, source: string): void {
  if (!pdu) throw new Error(`${name}: PDU not captured`);
  const hex = Buffer.from(pdu)
    .toString('hex')
    .replace(/(.{64})/g, '$1\n')
    .trim();
  writeFileSync(join(out, `${name}.hex`), `${hex}\n`);
  writeFileSync(join(out, `${name}.txt`), `${name}: ${source}\n\n${formatPdu(decodePdu(pdu))}\n`);
  console.log(`wrote ${name} (${pdu.length} bytes)`);
}

function pick(pdus: Uint8Array[], type: number, index = 0): Uint8Array | undefined {
  return pdus.filter((p) => p[0] === type)[index];
}

const work = mkdtempSync(join(tmpdir(), 'dnet-pdu-capture-'));
try {
  mkdirSync(out, { recursive: true });
  const storeDir = join(work, 'store');
  mkdirSync(storeDir);
  // A tiny Secondary Capture object for storescu (dump2dcm writes the Part 10 meta header).
  const dump = join(work, 'sc.txt');
  writeFileSync(
    dump,
    [
      '(0008,0016) UI =SecondaryCaptureImageStorage',
      '(0008,0018) UI [1.2.826.0.1.3680043.8.498.1]',
      '(0010,0010) PN [Fixture^Test]',
      '(0010,0020) LO [PDU-FIXTURE]',
    ].join('\n'),
  );
  const file = join(work, 'sc.dcm');
  execFileSync('dump2dcm', [dump, file], { env });
  const scp = ['-od', storeDir, '+xa', '-aet', 'STORESCP'];

  const echo = await capture(scp, 'echoscu', (port) => [
    '-aet',
    'ECHOSCU',
    '-aec',
    'STORESCP',
    '127.0.0.1',
    String(port),
  ]);
  save(
    'echoscu-a-associate-rq',
    pick(echo.fromClient, 1),
    'echoscu 3.6.7 -aet ECHOSCU -aec STORESCP',
  );
  save(
    'storescp-a-associate-ac-echo',
    pick(echo.fromServer, 2),
    'storescp 3.6.7 accepting echoscu',
  );
  save(
    'echoscu-p-data-tf-c-echo-rq',
    pick(echo.fromClient, 4),
    'echoscu 3.6.7: the C-ECHO-RQ command',
  );
  save(
    'storescp-p-data-tf-c-echo-rsp',
    pick(echo.fromServer, 4),
    'storescp 3.6.7: the C-ECHO-RSP command',
  );
  save('echoscu-a-release-rq', pick(echo.fromClient, 5), 'echoscu 3.6.7 releasing');
  save('storescp-a-release-rp', pick(echo.fromServer, 6), 'storescp 3.6.7 answering the release');

  const store = await capture(scp, 'storescu', (port) => [
    '-aet',
    'STORESCU',
    '-aec',
    'STORESCP',
    '127.0.0.1',
    String(port),
    file,
  ]);
  save(
    'storescu-a-associate-rq',
    pick(store.fromClient, 1),
    'storescu 3.6.7 -aet STORESCU -aec STORESCP, one Secondary Capture file',
  );
  save(
    'storescp-a-associate-ac-storage',
    pick(store.fromServer, 2),
    'storescp 3.6.7 +xa accepting storescu',
  );
  save(
    'storescu-p-data-tf-c-store-rq',
    pick(store.fromClient, 4, 0),
    'storescu 3.6.7: the C-STORE-RQ command',
  );
  save('storescu-p-data-tf-data-set', pick(store.fromClient, 4, 1), 'storescu 3.6.7: the data set');

  const user = await capture(scp, 'storescu', (port) => [
    '-aet',
    'STORESCU',
    '-aec',
    'STORESCP',
    '-usr',
    'alice',
    '-pwd',
    'secret',
    '-rsp',
    '127.0.0.1',
    String(port),
    file,
  ]);
  save(
    'storescu-a-associate-rq-user-identity',
    pick(user.fromClient, 1),
    'storescu 3.6.7 -usr alice -pwd secret -rsp',
  );
  save(
    'storescp-a-associate-ac-user-identity',
    pick(user.fromServer, 2),
    'storescp 3.6.7 answering a user identity request',
  );

  const get = await capture(scp, 'getscu', (port) => [
    '-aet',
    'GETSCU',
    '-aec',
    'STORESCP',
    '-od',
    storeDir,
    '-k',
    'QueryRetrieveLevel=STUDY',
    '-k',
    'StudyInstanceUID=1.2.3',
    '127.0.0.1',
    String(port),
  ]);
  save(
    'getscu-a-associate-rq',
    pick(get.fromClient, 1),
    'getscu 3.6.7: role selection sub-items for the storage classes',
  );
  save(
    'storescp-a-associate-ac-get',
    pick(get.fromServer, 2),
    'storescp 3.6.7 answering getscu: rejected contexts, role replies',
  );

  const rejected = await capture(['--refuse'], 'echoscu', (port) => [
    '-aet',
    'ECHOSCU',
    '-aec',
    'STORESCP',
    '127.0.0.1',
    String(port),
  ]);
  save('storescp-a-associate-rj', pick(rejected.fromServer, 3), 'storescp 3.6.7 --refuse');

  const aborted = await capture(scp, 'echoscu', (port) => [
    '--abort',
    '-aet',
    'ECHOSCU',
    '-aec',
    'STORESCP',
    '127.0.0.1',
    String(port),
  ]);
  save('echoscu-a-abort', pick(aborted.fromClient, 7), 'echoscu 3.6.7 --abort');

  await withOrthanc(async (port) => {
    const echo = await captureVia(port, 'echoscu', (p) => [
      '-aet',
      'ECHOSCU',
      '-aec',
      'ORTHANC',
      '127.0.0.1',
      String(p),
    ]);
    save('orthanc-a-associate-ac', pick(echo.fromServer, 2), 'Orthanc 1.10.1 accepting echoscu');
    save(
      'orthanc-p-data-tf-c-echo-rsp',
      pick(echo.fromServer, 4),
      'Orthanc 1.10.1: the C-ECHO-RSP command',
    );
    save('orthanc-a-release-rp', pick(echo.fromServer, 6), 'Orthanc 1.10.1 answering the release');
    const wrong = await captureVia(port, 'echoscu', (p) => [
      '-aet',
      'ECHOSCU',
      '-aec',
      'NOT-ORTHANC',
      '127.0.0.1',
      String(p),
    ]);
    save(
      'orthanc-a-associate-rj',
      pick(wrong.fromServer, 3),
      'Orthanc 1.10.1 with DicomCheckCalledAet, called AE NOT-ORTHANC',
    );
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
