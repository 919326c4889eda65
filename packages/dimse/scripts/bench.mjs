#!/usr/bin/env node
// Short benchmark of @dnet/dimse (built dist): command set codec rates, and a
// large C-STORE through fragmentMessage -> PduDecoder -> Reassembler.
// Usage: pnpm turbo run build --filter=@dnet/dimse... && node packages/dimse/scripts/bench.mjs [MiB]

import { PduDecoder } from '@dnet/pdu';
import { decodeMessage, encodeMessage, fragmentMessage, Reassembler } from '../dist/index.js';

const storeRq = {
  commandField: 0x0001,
  messageId: 1,
  priority: 0,
  affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
  affectedSopInstanceUid: '1.2.826.0.1.3680043.9.7433.1.1.1.1',
  hasDataSet: true,
};

function rate(name, n, f) {
  f(); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${name}: ${Math.round(n / s).toLocaleString('en')} /s`);
}

const bytes = encodeMessage(storeRq);
rate('encodeMessage C-STORE-RQ', 200_000, () => encodeMessage(storeRq));
rate('decodeMessage C-STORE-RQ', 200_000, () => decodeMessage(bytes));

const mib = Number(process.argv[2] ?? 256);
const chunk = new Uint8Array(64 * 1024).fill(7);
const chunks = (mib * 1024 * 1024) / chunk.length;
function* source() {
  for (let i = 0; i < chunks; i++) yield chunk;
}

for (const max of [16384, 131072]) {
  let t0 = process.hrtime.bigint();
  let pdus = 0;
  for (const _ of fragmentMessage({
    contextId: 1,
    command: storeRq,
    dataSet: source(),
    maxPduLength: max,
  }))
    pdus++;
  let s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `fragmentMessage ${mib} MiB at max ${max}: ${pdus} PDUs, ${(mib / 1024 / s).toFixed(2)} GiB/s`,
  );

  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  t0 = process.hrtime.bigint();
  const decoder = new PduDecoder({ maxPduLength: max });
  const reassembler = new Reassembler();
  let received = 0;
  let n = 0;
  for (const pdu of fragmentMessage({
    contextId: 1,
    command: storeRq,
    dataSet: source(),
    maxPduLength: max,
  })) {
    // One write buffer per PDU, as a socket would deliver it.
    const wire = Buffer.concat(pdu);
    for (const p of decoder.push(wire))
      for (const e of reassembler.push(p.pdvs)) if (e.type === 'data') received += e.data.length;
    if (++n % 1024 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (received !== mib * 1024 * 1024) throw new Error(`received ${received}`);
  console.log(
    `fragment + concat + PduDecoder + Reassembler ${mib} MiB at max ${max}: ${(mib / 1024 / s).toFixed(2)} GiB/s, RSS growth ${((peak - rss0) / 1024 / 1024).toFixed(1)} MiB`,
  );
}
