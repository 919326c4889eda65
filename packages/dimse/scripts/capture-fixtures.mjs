#!/usr/bin/env node
// Captures real DIMSE traffic for the fixtures in src/fixtures/.
//
// Runs peers on 127.0.0.1 with a recording TCP proxy between each SCU and its
// SCP: echoscu/storescu -> storescp; storescu/findscu/movescu/getscu ->
// dcmqrscp (and dcmqrscp's C-MOVE sub-operation back to movescu); dcmprscu ->
// dcmprscp (Basic Grayscale Print: N-GET, N-CREATE, N-SET, N-ACTION,
// N-DELETE); Orthanc -> Orthanc storage commitment (N-ACTION, N-EVENT-REPORT).
// It parses the recorded byte streams into PDUs (PS3.8 §9.3), joins the
// command fragments of each message (PS3.8 Annex E.2) and writes, per message,
// `<name>.hex` (the command set bytes) and `<name>.txt` (dcmdump's reading of
// them plus where they came from). Also keeps the P-DATA-TF PDUs of one
// C-STORE (storescu -> storescp) as `storescu-c-store-rq.pdus.hex` and its
// data set as `img1.dataset.hex`, to reassemble real fragmentation.
//
// Usage: node packages/dimse/scripts/capture-fixtures.mjs
// Needs: DCMTK (echoscu storescu storescp findscu movescu getscu dcmqrscp
// dcmpsprt dcmprscu dcmprscp img2dcm dcmdump); Orthanc optional.
// Every process it starts is stopped by its PID; every wait is bounded.
// Timing-dependent captures (findscu --cancel) may differ between runs.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'src', 'fixtures');
const work = mkdtempSync(join(tmpdir(), 'dimse-capture-'));
const env = { ...process.env, TCP_NODELAY: '1' };
const started = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((r) => {
      const c = createConnection({ host: '127.0.0.1', port });
      c.once('connect', () => {
        c.destroy();
        r(true);
      });
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startDaemon(cmd, args, cwd = work) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => {
    log += d;
  });
  child.stderr.on('data', (d) => {
    log += d;
  });
  const entry = { child, log: () => log };
  started.push(entry);
  return entry;
}

/** Runs a network tool without blocking the event loop (the proxy lives in this process). */
function tool(cmd, args, cwd = work) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => {
      log += d;
    });
    child.stderr.on('data', (d) => {
      log += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(log);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${log}`));
    });
  });
}

/** Runs a local tool synchronously (no network). */
function run(cmd, args, cwd = work) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A TCP proxy on 127.0.0.1 that records both directions of every connection. */
async function recordingProxy(targetPort) {
  const port = await freePort();
  const connections = [];
  const server = createServer((client) => {
    const rec = { toServer: [], toClient: [] };
    connections.push(rec);
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (d) => {
      rec.toServer.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      rec.toClient.push(Buffer.from(d));
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', (e) => {
      console.error(`proxy -> ${targetPort}: ${e.message}`);
      client.destroy();
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { port, connections, close: () => new Promise((r) => server.close(r)) };
}

/** Splits a byte stream into PDUs: type (1), reserved (1), length (4, big endian), PS3.8 §9.3.1. */
function pdus(chunks) {
  const buf = Buffer.concat(chunks);
  const out = [];
  let pos = 0;
  while (pos + 6 <= buf.length) {
    const length = buf.readUInt32BE(pos + 2);
    if (pos + 6 + length > buf.length) break;
    out.push({ type: buf[pos], bytes: buf.subarray(pos, pos + 6 + length) });
    pos += 6 + length;
  }
  return out;
}

/** PDV items of a P-DATA-TF (PS3.8 §9.3.5.1, Annex E.2 message control header). */
function pdvs(pdu) {
  const out = [];
  let pos = 6;
  while (pos < pdu.length) {
    const length = pdu.readUInt32BE(pos);
    const header = pdu[pos + 5];
    out.push({
      contextId: pdu[pos + 4],
      command: (header & 1) === 1,
      last: (header & 2) === 2,
      data: pdu.subarray(pos + 6, pos + 4 + length),
    });
    pos += 4 + length;
  }
  return out;
}

/** The command sets of one direction, in order, each with its Command Field. */
function commandSets(chunks) {
  const sets = [];
  let parts = [];
  for (const pdu of pdus(chunks)) {
    if (pdu.type !== 0x04) continue;
    for (const pdv of pdvs(pdu.bytes)) {
      if (!pdv.command) continue;
      parts.push(pdv.data);
      if (pdv.last) {
        sets.push(Buffer.concat(parts));
        parts = [];
      }
    }
  }
  return sets;
}

const NAMES = new Map([
  [0x0001, 'c-store-rq'],
  [0x8001, 'c-store-rsp'],
  [0x0010, 'c-get-rq'],
  [0x8010, 'c-get-rsp'],
  [0x0020, 'c-find-rq'],
  [0x8020, 'c-find-rsp'],
  [0x0021, 'c-move-rq'],
  [0x8021, 'c-move-rsp'],
  [0x0030, 'c-echo-rq'],
  [0x8030, 'c-echo-rsp'],
  [0x0fff, 'c-cancel-rq'],
  [0x0100, 'n-event-report-rq'],
  [0x8100, 'n-event-report-rsp'],
  [0x0110, 'n-get-rq'],
  [0x8110, 'n-get-rsp'],
  [0x0120, 'n-set-rq'],
  [0x8120, 'n-set-rsp'],
  [0x0130, 'n-action-rq'],
  [0x8130, 'n-action-rsp'],
  [0x0140, 'n-create-rq'],
  [0x8140, 'n-create-rsp'],
  [0x0150, 'n-delete-rq'],
  [0x8150, 'n-delete-rsp'],
]);

function commandField(set) {
  for (let pos = 0; pos + 8 <= set.length; ) {
    const tag = (set.readUInt16LE(pos) << 16) | set.readUInt16LE(pos + 2);
    const len = set.readUInt32LE(pos + 4);
    if (tag === 0x0100) return set.readUInt16LE(pos + 8);
    pos += 8 + len;
  }
  return -1;
}

function hex(bytes) {
  const lines = [];
  for (let i = 0; i < bytes.length; i += 32) lines.push(bytes.subarray(i, i + 32).toString('hex'));
  return `${lines.join('\n')}\n`;
}

const written = [];
function writeFixture(name, set, origin) {
  const bin = join(work, `${name}.bin`);
  writeFileSync(bin, set);
  const dump = run('dcmdump', ['-f', '-ti', '+L', bin]);
  const tool = origin.startsWith('Orthanc') ? 'Orthanc 1.10.1' : 'DCMTK 3.6.7';
  writeFileSync(join(outDir, `${name}.hex`), hex(set));
  writeFileSync(
    join(outDir, `${name}.txt`),
    `${name}: command set captured from ${origin}\n` +
      `(${tool} on 127.0.0.1 through a recording proxy, scripts/capture-fixtures.mjs)\n` +
      `${set.length} bytes, Implicit VR Little Endian (PS3.7 §6.3.1). dcmdump -f -ti +L:\n\n${dump}`,
  );
  written.push(name);
}

/** Writes every command set of a recorded connection as `<prefix>-<message>[-n]`. */
function writeConnection(prefix, rec, origin, counts = new Map()) {
  for (const [dir, chunks] of [
    ['rq', rec.toServer],
    ['rsp', rec.toClient],
  ]) {
    for (const set of commandSets(chunks)) {
      const cf = commandField(set);
      const base = `${prefix}-${NAMES.get(cf) ?? `cmd-${cf.toString(16)}`}`;
      const n = (counts.get(base) ?? 0) + 1;
      counts.set(base, n);
      writeFixture(
        n === 1 ? base : `${base}-${n}`,
        set,
        `${origin} (${dir === 'rq' ? 'sent by the association requestor' : 'sent by the association acceptor'})`,
      );
    }
  }
}

/** A 24-bit BMP of w x h pixels (for img2dcm). */
function bmp(w, h) {
  const row = Math.ceil((w * 3) / 4) * 4;
  const size = 54 + row * h;
  const b = Buffer.alloc(size);
  b.write('BM', 0);
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(row * h, 34);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = 54 + y * row + x * 3;
      b[p] = (x * 7) & 0xff;
      b[p + 1] = (y * 5) & 0xff;
      b[p + 2] = (x ^ y) & 0xff;
    }
  return b;
}

async function main() {
  mkdirSync(outDir, { recursive: true });
  // Two test images: Secondary Capture made by img2dcm (PS3.4 B.5), ~37 KB each.
  const files = [];
  for (const [i, study] of [
    [1, '1.2.826.0.1.3680043.9.7433.1.1'],
    [2, '1.2.826.0.1.3680043.9.7433.1.2'],
  ]) {
    writeFileSync(join(work, `img${i}.bmp`), bmp(110, 110));
    const f = join(work, `img${i}.dcm`);
    run('img2dcm', [
      '-i',
      'BMP',
      `img${i}.bmp`,
      f,
      '-k',
      `PatientName=Fixture^Dimse${i}`,
      '-k',
      `PatientID=DIMSE${i}`,
      '-k',
      `StudyInstanceUID=${study}`,
      '-k',
      `SeriesInstanceUID=${study}.1`,
      '-k',
      `SOPInstanceUID=${study}.1.1`,
      '-k',
      'StudyID=1',
      '-k',
      'StudyDate=20260101',
    ]);
    files.push(f);
  }

  // 1. echoscu and storescu against storescp.
  const scpPort = await freePort();
  mkdirSync(join(work, 'received'));
  startDaemon('storescp', ['-od', join(work, 'received'), '+B', '+xa', String(scpPort)]);
  await waitPort(scpPort);
  const p1 = await recordingProxy(scpPort);
  await tool('echoscu', ['127.0.0.1', String(p1.port)]);
  await tool('storescu', ['-R', '127.0.0.1', String(p1.port), files[0]]);
  await new Promise((r) => setTimeout(r, 200));
  writeConnection('echoscu', p1.connections[0], 'echoscu -> storescp');
  writeConnection('storescu', p1.connections[1], 'storescu -> storescp');
  // The C-STORE's P-DATA-TF PDUs as sent by storescu, for reassembly tests.
  const storePdus = pdus(p1.connections[1].toServer).filter((p) => p.type === 0x04);
  writeFileSync(
    join(outDir, 'storescu-c-store-rq.pdus.hex'),
    storePdus.map((p) => hex(p.bytes)).join('\n'),
  );
  writeFileSync(
    join(outDir, 'storescu-c-store-rq.pdus.txt'),
    `P-DATA-TF PDUs (PS3.8 §9.3.5) sent by storescu -R to storescp for one C-STORE-RQ\n` +
      `(${storePdus.length} PDUs, blank line between PDUs; lengths ${storePdus.map((p) => p.bytes.length).join(', ')}).\n` +
      `The data set is the file ${'img1.dcm'} (made by img2dcm from a 110x110 BMP) without its meta header.\n`,
  );
  writeFileSync(
    join(outDir, 'img1.dataset.hex'),
    hex(Buffer.from(run('node', ['-e', datasetOf(files[0])], work), 'base64')),
  );
  await p1.close();

  // 2. dcmqrscp: store both images, then C-FIND (with and without cancel), C-MOVE, C-GET.
  const qrPort = await freePort();
  const moveDestPort = await freePort();
  const p3 = await recordingProxy(moveDestPort); // dcmqrscp -> proxy -> movescu
  const db = join(work, 'db');
  mkdirSync(db);
  writeFileSync(
    join(work, 'dcmqrscp.cfg'),
    [
      `NetworkTCPPort = ${qrPort}`,
      'MaxPDUSize = 16384',
      'MaxAssociations = 16',
      'HostTable BEGIN',
      `movedest = (MOVEDEST, 127.0.0.1, ${p3.port})`,
      'HostTable END',
      'VendorTable BEGIN',
      'VendorTable END',
      'AETable BEGIN',
      `QRSCP ${db} RW (10, 100mb) ANY`,
      'AETable END',
      '',
    ].join('\n'),
  );
  const qr = startDaemon('dcmqrscp', ['-c', join(work, 'dcmqrscp.cfg'), String(qrPort)]);
  await waitPort(qrPort).catch((e) => {
    throw new Error(`${e.message}\n${qr.log()}`);
  });
  const p2 = await recordingProxy(qrPort);
  await tool('storescu', ['-aec', 'QRSCP', '127.0.0.1', String(p2.port), ...files]);
  const study = ['-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID', '-k', 'PatientName'];
  await tool('findscu', ['-S', '-aec', 'QRSCP', '127.0.0.1', String(p2.port), ...study]);
  await tool('findscu', [
    '-S',
    '-aec',
    'QRSCP',
    '--cancel',
    '1',
    '127.0.0.1',
    String(p2.port),
    ...study,
  ]);
  await tool('movescu', [
    '-S',
    '-aec',
    'QRSCP',
    '-aem',
    'MOVEDEST',
    '-aet',
    'MOVESCU',
    '+P',
    String(moveDestPort),
    '-od',
    join(work, 'received'),
    '-k',
    'QueryRetrieveLevel=STUDY',
    '-k',
    'StudyInstanceUID=1.2.826.0.1.3680043.9.7433.1.1',
    '127.0.0.1',
    String(p2.port),
  ]);
  await tool('getscu', [
    '-S',
    '-aec',
    'QRSCP',
    '-od',
    join(work, 'received'),
    '-k',
    'QueryRetrieveLevel=STUDY',
    '-k',
    'StudyInstanceUID=1.2.826.0.1.3680043.9.7433.1.2',
    '127.0.0.1',
    String(p2.port),
  ]);
  await new Promise((r) => setTimeout(r, 200));
  writeConnection('dcmqrscp-storescu', p2.connections[0], 'storescu -> dcmqrscp');
  writeConnection('dcmqrscp-findscu', p2.connections[1], 'findscu -> dcmqrscp');
  writeConnection('dcmqrscp-findscu-cancel', p2.connections[2], 'findscu --cancel 1 -> dcmqrscp');
  writeConnection('dcmqrscp-movescu', p2.connections[3], 'movescu -> dcmqrscp');
  writeConnection(
    'dcmqrscp-move-suboperation',
    p3.connections[0],
    'dcmqrscp -> movescu (C-MOVE sub-operation)',
  );
  writeConnection('dcmqrscp-getscu', p2.connections[4], 'getscu -> dcmqrscp');
  await p2.close();
  await p3.close();

  await capturePrint();
  if (spawnSync('which', ['Orthanc']).status === 0) await captureOrthanc(files[0]);
  else console.warn('Orthanc not installed: no N-ACTION / N-EVENT-REPORT fixtures');
}

/** An 8-bit grayscale BMP (img2dcm makes it MONOCHROME2, which the print tools need). */
function grayBmp(w, h) {
  const off = 54 + 256 * 4;
  const b = Buffer.alloc(off + w * h);
  b.write('BM', 0);
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(off, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(8, 28);
  b.writeUInt32LE(w * h, 34);
  b.writeUInt32LE(256, 46);
  for (let i = 0; i < 256; i++) b.fill(i, 54 + i * 4, 57 + i * 4);
  for (let i = 0; i < w * h; i++) b[off + i] = i & 0xff;
  return b;
}

/**
 * Basic Grayscale Print Management (PS3.4 Annex H) between DCMTK's print
 * spooler and print SCP: dcmpsprt makes a Stored Print object, dcmprscu sends
 * it to dcmprscp through the proxy (N-CREATE, N-SET, N-ACTION, N-DELETE, N-GET...).
 */
async function capturePrint() {
  const dir = join(work, 'print');
  for (const d of ['db', 'spool', 'log']) mkdirSync(join(dir, d), { recursive: true });
  const scpPort = await freePort();
  const proxy = await recordingProxy(scpPort);
  const cfg = (port) =>
    [
      '[[GENERAL]]',
      '[APPLICATION]',
      `LogDirectory = ${join(dir, 'log')}`,
      'LogFile = general.log',
      '[PRINT]',
      'Spooler = dcmprscu',
      'Server = dcmprscp',
      `Directory = ${join(dir, 'spool')}`,
      'Sleep = 1',
      '[DATABASE]',
      `Directory = ${join(dir, 'db')}`,
      '[[COMMUNICATION]]',
      '[PRN]',
      'Aetitle = PRINTSCP',
      'Description = dnet print SCP',
      'Hostname = 127.0.0.1',
      `Port = ${port}`,
      'Type = LOCALPRINTER',
      'DisplayFormat = 1,1\\1,2\\2,2',
      'FilmSizeID = 8INX10IN\\14INX17IN',
      'MagnificationType = REPLICATE\\BILINEAR\\NONE',
      'MaxDensity = 320',
      'MinDensity = 20',
      'MaxPDU = 16384',
      'MediumType = PAPER\\CLEAR FILM',
      'Supports12Bit = true',
      'SupportsPresentationLUT = true',
      '',
    ].join('\n');
  writeFileSync(join(dir, 'scp.cfg'), cfg(scpPort));
  writeFileSync(join(dir, 'scu.cfg'), cfg(proxy.port));
  writeFileSync(join(dir, 'gray.bmp'), grayBmp(64, 64));
  run('img2dcm', ['-i', 'BMP', 'gray.bmp', 'gray.dcm'], dir);
  run('dcmpsprt', ['-c', 'scu.cfg', '-p', 'PRN', 'gray.dcm'], dir);
  const storedPrint = readdirSync(join(dir, 'db')).find((f) => f.startsWith('SP_'));
  startDaemon('dcmprscp', ['-c', 'scp.cfg', '-p', 'PRN'], dir);
  await waitPort(scpPort);
  await tool('dcmprscu', ['-c', 'scu.cfg', '-p', 'PRN', join(dir, 'db', storedPrint)], dir);
  await new Promise((r) => setTimeout(r, 300));
  const counts = new Map();
  for (const rec of proxy.connections)
    writeConnection(
      'dcmprscu',
      rec,
      'dcmprscu -> dcmprscp (Basic Grayscale Print Management)',
      counts,
    );
  await proxy.close();
}

/** Polls `url` until `ok(json)` holds; bounded by `ms`. */
async function poll(url, ok, ms = 20_000, init = undefined) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url, init);
      if (r.ok) {
        const json = await r.json();
        if (ok(json)) return json;
      }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out polling ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Storage Commitment between two Orthanc instances (PS3.4 Annex J): A stores an
 * instance to B asking for commitment, so A sends N-ACTION-RQ, B answers, then B
 * opens an association back to A with N-EVENT-REPORT-RQ. Both associations go
 * through recording proxies.
 */
async function captureOrthanc(file) {
  const [httpA, httpB, dicomA, dicomB] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const toB = await recordingProxy(dicomB);
  const toA = await recordingProxy(dicomA);
  const config = (name, http, dicom, peer) => {
    const dir = join(work, `orthanc-${name}`);
    mkdirSync(dir, { recursive: true });
    const cfg = {
      Name: `dnet-${name}`,
      StorageDirectory: join(dir, 'storage'),
      IndexDirectory: join(dir, 'index'),
      HttpPort: http,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      DicomAet: `ORTHANC${name.toUpperCase()}`,
      DicomPort: dicom,
      DicomCheckModalityHost: false,
      Plugins: [],
      DicomModalities: { [peer.name]: { AET: peer.aet, Host: '127.0.0.1', Port: peer.port } },
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
    return dir;
  };
  const dirA = config('a', httpA, dicomA, { name: 'b', aet: 'ORTHANCB', port: toB.port });
  const dirB = config('b', httpB, dicomB, { name: 'a', aet: 'ORTHANCA', port: toA.port });
  const a = startDaemon('Orthanc', [`--logdir=${dirA}`, join(dirA, 'config.json')]);
  startDaemon('Orthanc', [`--logdir=${dirB}`, join(dirB, 'config.json')]);
  await poll(`http://127.0.0.1:${httpA}/system`, () => true);
  await poll(`http://127.0.0.1:${httpB}/system`, () => true);
  const uploaded = await (
    await fetch(`http://127.0.0.1:${httpA}/instances`, { method: 'POST', body: readFileSync(file) })
  ).json();
  const job = await (
    await fetch(`http://127.0.0.1:${httpA}/modalities/b/store`, {
      method: 'POST',
      body: JSON.stringify({
        Resources: [uploaded.ID],
        StorageCommitment: true,
        Synchronous: true,
      }),
    })
  ).json();
  if (!job.StorageCommitmentTransactionUID)
    throw new Error(`no storage commitment in ${JSON.stringify(job)}\n${a.log()}`);
  await poll(
    `http://127.0.0.1:${httpA}/storage-commitment/${job.StorageCommitmentTransactionUID}`,
    (report) => report.Status !== 'Pending',
  );
  await new Promise((r) => setTimeout(r, 300));
  const counts = new Map();
  for (const rec of toB.connections)
    writeConnection(
      'orthanc-commitment',
      rec,
      'Orthanc A -> Orthanc B (C-STORE, N-ACTION)',
      counts,
    );
  for (const rec of toA.connections)
    writeConnection(
      'orthanc-commitment',
      rec,
      'Orthanc B -> Orthanc A (commitment report)',
      counts,
    );
  await toA.close();
  await toB.close();
}

/** A node -e program printing the data set of a Part 10 file (after the meta group) as base64. */
function datasetOf(file) {
  return `const b=require('fs').readFileSync(${JSON.stringify(file)});let p=132;while(b.readUInt16LE(p)===2){const vr=b.toString('latin1',p+4,p+6);const long=['OB','OW','OF','SQ','UT','UN'].includes(vr);p+=long?12+b.readUInt32LE(p+8):8+b.readUInt16LE(p+6);}process.stdout.write(b.subarray(p).toString('base64'))`;
}

try {
  await main().catch((e) => {
    for (const d of started) console.error(d.log());
    throw e;
  });
  console.log(`wrote ${written.length} command set fixtures to ${outDir}:\n${written.join('\n')}`);
} finally {
  for (const { child } of started) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
