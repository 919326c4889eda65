// PduDecoder throughput on a stream of P-DATA-TF PDUs arriving in 64 KiB
// chunks, and the bytes it copies per PDU (none: a P-DATA-TF straddling chunks
// is handed out as views, read here as a consumer does, with pdvParts). Run on its own: pnpm exec tsx packages/pdu/bench/decoder.ts
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type Result, summarize } from '../../../bench/stats.js';
import { decodePdu, encodePdu, PduDecoder, PduType, pdvParts } from '../src/index.js';

export type { Result };

const STREAM_BYTES = 32 * 1024 * 1024;
const PASSES = 4;
const RUNS = 9;

/** A stream of P-DATA-TF PDUs whose length field is `pduLength` (the maximum length announced), cut into `chunkSize` views. */
function stream(pduLength: number, chunkSize: number): { chunks: Uint8Array[]; pdus: number } {
  const pdu = encodePdu({
    type: PduType.P_DATA_TF,
    pdvs: [
      { contextId: 1, command: false, last: false, data: new Uint8Array(pduLength - 6).fill(0xab) },
    ],
  });
  const pdus = Math.floor(STREAM_BYTES / pdu.length);
  const all = new Uint8Array(pdus * pdu.length);
  for (let i = 0; i < pdus; i++) all.set(pdu, i * pdu.length);
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < all.length; o += chunkSize) chunks.push(all.subarray(o, o + chunkSize));
  return { chunks, pdus };
}

function scenario(label: string, pduLength: number, chunkSize: number): Result[] {
  const { chunks, pdus } = stream(pduLength, chunkSize);
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  const gbps: number[] = [];
  const mpdus: number[] = [];
  let copiedPerPdu = 0;
  for (let run = 0; run < RUNS + 1; run++) {
    const decoder = new PduDecoder({ maxPduLength: 1024 * 1024 });
    let seen = 0;
    let data = 0;
    const start = process.hrtime.bigint();
    for (let pass = 0; pass < PASSES; pass++) {
      for (const chunk of chunks) {
        for (const pdu of decoder.push(chunk)) {
          seen++;
          if (pdu.type === PduType.P_DATA_TF)
            for (const part of pdvParts(pdu.pdvs[0]!)) data += part.length;
        }
      }
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (seen !== pdus * PASSES || data === 0)
      throw new Error(`${label}: decoded ${seen} of ${pdus * PASSES} PDUs`);
    copiedPerPdu = decoder.bytesCopied / seen;
    if (run > 0) {
      // run 0 warms up
      gbps.push((bytes * PASSES) / seconds / 1e9);
      mpdus.push(seen / seconds / 1e6);
    }
  }
  const copies = copiedPerPdu / (pduLength + 6);
  return [
    summarize(`pdu decoder ${label} rate`, 'M PDU/s', mpdus),
    summarize(`pdu decoder ${label}`, 'GB/s', gbps),
    summarize(`pdu decoder ${label} copied`, 'bytes/PDU', [copiedPerPdu]),
    summarize(`pdu decoder ${label} copies`, 'copies/PDU', [copies]),
  ];
}

/** decodePdu and encodePdu rates of a real A-ASSOCIATE-RQ (storescu's, 128 presentation contexts). */
function associate(): Result[] {
  const hex = readFileSync(
    new URL('../src/fixtures/storescu-a-associate-rq.hex', import.meta.url),
    'utf8',
  );
  const bytes = new Uint8Array(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
  const pdu = decodePdu(bytes);
  const rate = (fn: () => unknown) => {
    const samples: number[] = [];
    for (let run = 0; run < RUNS + 1; run++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 500; i++) fn();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (run > 0) samples.push(500 / seconds / 1e3);
    }
    return samples;
  };
  return [
    summarize(
      'pdu decodePdu A-ASSOCIATE-RQ (9.6 kB, 128 contexts)',
      'k PDU/s',
      rate(() => decodePdu(bytes)),
    ),
    summarize(
      'pdu encodePdu A-ASSOCIATE-RQ (9.6 kB, 128 contexts)',
      'k PDU/s',
      rate(() => encodePdu(pdu)),
    ),
  ];
}

/**
 * Decoder throughput (GB/s and PDUs/s) and copies per PDU for 16 KiB, 128 KiB,
 * 1 MiB and 256-byte P-DATA-TF PDUs in 64 KiB chunks, and for chunks of whole PDUs.
 */
export async function run(): Promise<Result[]> {
  const chunk = 64 * 1024;
  return [
    ...scenario('16 KiB PDUs / 64 KiB chunks', 16 * 1024, chunk),
    ...scenario('128 KiB PDUs / 64 KiB chunks', 128 * 1024, chunk),
    ...scenario('1 MiB PDUs / 64 KiB chunks', 1024 * 1024, chunk),
    // Small PDUs, as a C-FIND or C-ECHO exchange sends: the per-PDU cost.
    ...scenario('256 B PDUs / 64 KiB chunks', 256, chunk),
    // Chunks holding whole PDUs (4 per chunk): every PDU lies within a chunk.
    ...scenario('16 KiB PDUs / chunks of 4 whole PDUs', 16 * 1024, 4 * (16 * 1024 + 6)),
    ...associate(),
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(3));
    console.log(
      `${r.name.padEnd(50)} ${f(r.median).padStart(9)} ${f(r.min).padStart(9)} ${f(r.max).padStart(9)}  ${r.unit}`,
    );
  }
}
