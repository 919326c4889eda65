/**
 * Files from the wild, sent by the built `dnet-scu` to DCMTK 3.6.7's storescp
 * on 127.0.0.1: bare data sets (no meta header) in each uncompressed syntax,
 * a deflated data set of odd length, a meta header gone stale; each received
 * with the same data set (dcmdump of both, meta header aside). Then batches
 * that lose their association (a reset mid-file, storescp's --abort-after)
 * and a cut file, which fail alone while the rest goes on.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import {
  DataSet,
  encodePart10,
  encodePart10Header,
  readPart10Header,
  TransferSyntax,
} from '@dnet/dataset';
import { describePeer, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CT, scu, tempDir, useBuiltCli, writeCtFiles } from './scu-cli.test-support.js';

let dir: AsyncDisposable & { path: string };
let cli: AsyncDisposable;
const peers: RunningPeer[] = [];

async function storescp(folder: string, ...extra: string[]): Promise<RunningPeer> {
  await mkdir(folder, { recursive: true });
  const peer = await startPeer({
    command: 'storescp',
    args: (p) => ['-od', folder, '+B', '+xa', ...extra, String(p)],
  });
  peers.push(peer);
  return peer;
}

/**
 * The data set part of `dcmdump +L` (the lines after "# Dicom-Data-Set"), the
 * meta header left out, and the "Used TransferSyntax" line too: storescp
 * accepts one transfer syntax per SOP class, so dnet-scu converts the files in
 * other uncompressed syntaxes (PS3.5 §10), which keeps every element's value.
 */
async function dumpDataSet(path: string): Promise<string> {
  const r = await runTool('dcmdump', ['+L', path]);
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.split('\n');
  return lines
    .slice(lines.indexOf('# Dicom-Data-Set'))
    .filter((l) => !l.startsWith('# Used TransferSyntax'))
    .join('\n');
}

/** The received file whose data set has this SOP Instance UID. */
async function receivedWith(folder: string, uid: string): Promise<string> {
  const names = await readdir(folder);
  const name = names.find((n) => n.endsWith(`.${uid}`) || n.endsWith(`.${uid}.dcm`));
  expect(name, `${uid} among ${names.join(', ')}`).toBeDefined();
  return join(folder, name!);
}

async function tool(command: string, args: string[]): Promise<void> {
  const r = await runTool(command, args);
  expect(r.code, `${command} ${args.join(' ')}: ${r.stderr}`).toBe(0);
}

/**
 * A Part 10 file whose deflated data set has an odd length and no pad byte
 * (PS3.5 §A.5 asks for one): the deflate of one of `sources`'s data sets that
 * comes out odd.
 */
async function oddDeflateFile(sources: string[], path: string): Promise<string> {
  for (const source of sources) {
    const bytes = new Uint8Array(await readFile(source));
    const header = readPart10Header(bytes);
    for (let level = 1; level <= 9; level++) {
      const deflated = deflateRawSync(bytes.subarray(header.dataSetOffset), { level });
      if (deflated.length % 2 === 0) continue;
      const meta = encodePart10Header({
        mediaStorageSopClassUid: CT,
        mediaStorageSopInstanceUid: header.fileMetaInformation.mediaStorageSopInstanceUid,
        transferSyntaxUid: TransferSyntax.DeflatedExplicitVRLittleEndian,
      });
      await writeFile(path, Buffer.concat([meta, deflated]));
      return header.fileMetaInformation.mediaStorageSopInstanceUid;
    }
  }
  throw new Error('no odd deflate stream among the sources');
}

/**
 * A TCP relay to `port` that resets the first connection once more than
 * `after` bytes went from the client to the server; later connections are
 * relayed whole.
 */
function resettingRelay(port: number, after: number): Promise<{ server: Server; port: number }> {
  let first = true;
  const server = createServer((client: Socket) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    const cut = first;
    first = false;
    let sent = 0;
    client.on('data', (d: Buffer) => {
      sent += d.length;
      if (cut && sent > after) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
        return;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    }),
  );
}

describePeer(
  ['storescp', 'dcmconv', 'dcmodify', 'dcmdump'],
  'dnet-scu: files from the wild to DCMTK',
  () => {
    beforeAll(async () => {
      dir = await tempDir();
      cli = await useBuiltCli();
    });

    afterAll(async () => {
      for (const p of peers) await p.stop();
      await dir?.[Symbol.asyncDispose]();
      await cli?.[Symbol.asyncDispose]();
    });

    it('storescp receives bare data sets (implicit LE, explicit LE, explicit BE), an odd deflate and a stale meta header with the same data set', async () => {
      const base = join(dir.path, 'base');
      await mkdir(base);
      const files = await writeCtFiles(base, 1, 1, 8);
      const wild = join(dir.path, 'wild');
      await mkdir(wild);
      const sent: { path: string; uid: string }[] = [];
      const uidOf = async (p: string) =>
        readPart10Header(new Uint8Array(await readFile(p))).fileMetaInformation
          .mediaStorageSopInstanceUid;
      // Bare data sets written by DCMTK itself (-F: no meta header).
      for (const [i, flag] of ['+ti', '+te', '+tb'].entries()) {
        const path = join(wild, `bare${flag.slice(1)}`);
        await tool('dcmconv', ['-F', flag, files[i]!, path]);
        sent.push({ path, uid: await uidOf(files[i]!) });
      }
      // A stale meta header: the data set's SOP Instance UID changed by dcmodify (which
      // rewrites the meta header too), then the file's old meta header put back.
      const edited = join(wild, 'edited.dcm');
      await copyFile(files[3]!, edited);
      await tool('dcmodify', ['-nb', '-m', '(0008,0018)=2.25.7777.1', edited]);
      const before = await readFile(files[3]!);
      const after = await readFile(edited);
      const stale = join(wild, 'stale.dcm');
      await writeFile(
        stale,
        Buffer.concat([
          before.subarray(0, readPart10Header(before).dataSetOffset),
          after.subarray(readPart10Header(after).dataSetOffset),
        ]),
      );
      sent.push({ path: stale, uid: '2.25.7777.1' });
      const odd = join(wild, 'odd-deflate.dcm');
      sent.push({ path: odd, uid: await oddDeflateFile(files.slice(4), odd) });

      const recv = join(dir.path, 'recv-wild');
      const peer = await storescp(recv);
      const r = await scu(['store', '127.0.0.1', String(peer.port), ...sent.map((s) => s.path)]);
      expect(r.code, r.stderr + peer.log()).toBe(0);
      expect(r.stdout).toMatch(/^stored 5 of 5 files/m);
      expect(r.stderr).toMatch(
        /warning: .*stale\.dcm: \(0002,0003\) Media Storage SOP Instance UID in the meta header is [\d.]+ but the data set's \(0008,0018\) SOP Instance UID is 2\.25\.7777\.1/,
      );
      for (const s of sent) {
        const received = await receivedWith(recv, s.uid);
        expect(await dumpDataSet(received), s.path).toBe(await dumpDataSet(s.path));
      }
      // The deflated data set arrived padded to an even length (PS3.5 A.5).
      const deflated = new Uint8Array(await readFile(await receivedWith(recv, sent[4]!.uid)));
      const oddBytes = new Uint8Array(await readFile(odd));
      const original = oddBytes.subarray(readPart10Header(oddBytes).dataSetOffset);
      const arrived = deflated.subarray(readPart10Header(deflated).dataSetOffset);
      expect(arrived.length).toBe(original.length + 1);
      expect(arrived.at(-1)).toBe(0);
    });

    it('a reset mid-file: the file in flight goes again alone on a new association, the batch goes on', async () => {
      const source = join(dir.path, 'reset-source');
      await mkdir(source);
      await writeCtFiles(source, 1, 1, 4, 256 * 1024);
      const recv = join(dir.path, 'recv-reset');
      const peer = await storescp(recv);
      // The first connection is reset inside the second file (each is a little over 256 KiB).
      const relay = await resettingRelay(peer.port, 400 * 1024);
      try {
        const r = await scu([
          'store',
          '127.0.0.1',
          String(relay.port),
          '--max-pdu',
          '16384',
          source,
        ]);
        expect(r.code, r.stderr + peer.log()).toBe(0);
        expect(r.stdout).toMatch(/^stored 4 of 4 files/m);
        expect((await readdir(recv)).filter((n) => !n.endsWith('.tmp'))).toHaveLength(4);
      } finally {
        relay.server.close();
      }
    });

    it('storescp --abort-after: each file gets its outcome, new associations bounded by --retries', async () => {
      const source = join(dir.path, 'abort-source');
      await mkdir(source);
      const files = await writeCtFiles(source, 1, 1, 2);
      const peer = await storescp(join(dir.path, 'recv-abort'), '--abort-after');
      const r = await scu(['store', '127.0.0.1', String(peer.port), '--retries', '2', source]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^stored 0 of 2 files \(2 failed\)/m);
      // One line per file naming it; no crash, no hang.
      for (const f of files) expect(r.stderr).toContain(`${f}: `);
    });

    it('a large file cut inside Pixel Data fails alone, naming the file and the offset; the others are stored', async () => {
      const source = join(dir.path, 'cut-source');
      await mkdir(source);
      const files = await writeCtFiles(source, 1, 1, 3);
      const big = new DataSet();
      big.setString('SOPClassUID', CT, 'UI');
      big.setString('SOPInstanceUID', '2.25.7.8888.1', 'UI');
      big.setString('PatientID', 'CUT', 'LO');
      big.setBytes('PixelData', new Uint8Array(6 << 20).fill(7), 'OW');
      const whole = encodePart10(big, { transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian });
      const cut = join(source, 'cut.dcm');
      await writeFile(cut, whole.subarray(0, whole.length - 4096));
      const recv = join(dir.path, 'recv-cut');
      const peer = await storescp(recv);
      const r = await scu(['store', '127.0.0.1', String(peer.port), source]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^stored 3 of 4 files \(1 failed\)/m);
      expect(r.stderr).toMatch(
        new RegExp(
          `${cut.replace(/[.\\/]/g, '\\$&')}: .*\\(7FE0,0010\\) ?Pixel ?Data.*file offset \\d+`,
        ),
      );
      expect(await readdir(recv)).toHaveLength(files.length);
    });
  },
);
