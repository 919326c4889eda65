// The floor of the "dnet-scu -> storescp" row: the least a Node program must
// do to send Part 10 files with C-STORE, process start included. No library
// and no checks beyond what the exchange needs: hand-made PDUs (PS3.8 §9.3),
// one presentation context per SOP class and transfer syntax found, each file
// read whole with blocking calls, its data set sent in P-DATA-TF PDUs of the
// peer's maximum length in one gathered write, one operation outstanding
// (storescp negotiates no asynchronous window). Plain JavaScript, run by
// `node` itself, so nothing but Node's own start precedes the first PDU.
//
//   node bench/roles/bare-store-scu.mjs HOST PORT CALLED_AE MAX_PDU FILE...
//   node bench/roles/bare-store-scu.mjs --tls=key.pem,cert.pem,ca.pem HOST ...: over TLS (PS3.15 Annex B).
//
// Exits 0 once every file got a success status (0000H) and the association
// was released; 1 with a message otherwise.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { connect } from 'node:net';

const tlsOption = process.argv[2]?.startsWith('--tls=') ? process.argv[2] : undefined;
const [host, portText, calledAe, maxPduText, ...files] = process.argv.slice(tlsOption ? 3 : 2);
const ourMaxPdu = Number(maxPduText);
const IMPLICIT_LE = '1.2.840.10008.1.2';

function fail(message) {
  console.error(`bare-store-scu: ${message}`);
  process.exit(1);
}

/** An even-length UID value (PS3.5 §9.1: padded with NUL). */
function uidBytes(uid) {
  const b = Buffer.from(uid.length % 2 ? `${uid}\0` : uid, 'latin1');
  return b;
}

function ae(title) {
  return Buffer.from(title.padEnd(16, ' '), 'latin1');
}

function item(type, body) {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

/**
 * Reads a file (its first `limit` bytes only, if given); its meta header's SOP
 * UIDs and transfer syntax (PS3.10 §7.1) and its data set.
 */
let buffer = Buffer.alloc(0);
function readPart10(path, limit = Number.POSITIVE_INFINITY) {
  const fd = openSync(path, 'r');
  let bytes;
  try {
    const size = Math.min(limit, fstatSync(fd).size);
    // One buffer for every file, sent before the next is read: no allocation per file.
    if (buffer.length < size) buffer = Buffer.allocUnsafeSlow(size);
    bytes = buffer.subarray(0, size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, bytes, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  if (bytes.toString('latin1', 128, 132) !== 'DICM') fail(`${path}: no DICM prefix`);
  // Group 0002 is Explicit VR Little Endian; its first element is the group length.
  const end = 144 + bytes.readUInt32LE(140);
  const meta = {};
  for (let at = 132; at < end; ) {
    const element = bytes.readUInt16LE(at + 2);
    const vr = bytes.toString('latin1', at + 4, at + 6);
    const long = vr === 'OB' || vr === 'OW' || vr === 'UN' || vr === 'SQ' || vr === 'UT';
    const length = long ? bytes.readUInt32LE(at + 8) : bytes.readUInt16LE(at + 6);
    const value = at + (long ? 12 : 8);
    meta[element] = bytes.toString('latin1', value, value + length).replace(/[\0 ]+$/, '');
    at = value + length;
  }
  return {
    sopClass: meta[2],
    sopInstance: meta[3],
    syntax: meta[0x10],
    dataSet: bytes.subarray(end),
  };
}

/** One command element, Implicit VR Little Endian (PS3.7 §6.3.1). */
function element(tag, value) {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0, 0);
  h.writeUInt16LE(tag, 2);
  h.writeUInt32LE(value.length, 4);
  return [h, value];
}

function us(n) {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

/** A C-STORE-RQ command set (PS3.7 §9.3.1.1). */
function storeCommand(messageId, sopClass, sopInstance) {
  const parts = [
    ...element(0x0002, uidBytes(sopClass)),
    ...element(0x0100, us(0x0001)),
    ...element(0x0110, us(messageId)),
    ...element(0x0700, us(0)),
    ...element(0x0800, us(0)),
    ...element(0x1000, uidBytes(sopInstance)),
  ];
  const body = Buffer.concat(parts);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  return Buffer.concat([...element(0x0000, length), body]);
}

/** A P-DATA-TF PDU header and one PDV item header (PS3.8 §9.3.5). */
function pdataHeader(contextId, control, length) {
  const h = Buffer.alloc(12);
  h[0] = 0x04;
  h.writeUInt32BE(length + 6, 2);
  h.writeUInt32BE(length + 2, 6);
  h[10] = contextId;
  h[11] = control;
  return h;
}

const objects = files.map(readPart10Meta);
/** Only what the association needs up front: the file's SOP class and syntax. */
function readPart10Meta(path) {
  const { sopClass, syntax } = readPart10(path, 16384);
  return { path, key: `${sopClass}\\${syntax}`, sopClass, syntax };
}
const contexts = new Map();
for (const o of objects) if (!contexts.has(o.key)) contexts.set(o.key, 1 + 2 * contexts.size);
if (contexts.size > 128) fail('more than 128 presentation contexts');

const tlsFiles = tlsOption?.slice('--tls='.length).split(',');
const socket = tlsFiles
  ? (await import('node:tls')).connect({
      host,
      port: Number(portText),
      noDelay: true,
      key: readFileSync(tlsFiles[0]),
      cert: readFileSync(tlsFiles[1]),
      ca: readFileSync(tlsFiles[2]),
      // The test PKI's server certificate names localhost; the bench connects to 127.0.0.1.
      checkServerIdentity: () => undefined,
    })
  : connect({ host, port: Number(portText), noDelay: true });
socket.on('error', (e) => fail(e.message));
let pending = Buffer.alloc(0);
let waiting;
socket.on('data', (chunk) => {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  for (;;) {
    if (pending.length < 6) return;
    const length = pending.readUInt32BE(2);
    if (pending.length < 6 + length) return;
    const pdu = pending.subarray(0, 6 + length);
    pending = pending.subarray(6 + length);
    const w = waiting;
    waiting = undefined;
    if (!w) fail(`unexpected PDU type ${pdu[0]}`);
    w(pdu);
  }
});
const nextPdu = () => new Promise((resolve) => (waiting = resolve));

// A-ASSOCIATE-RQ (PS3.8 §9.3.2).
const variable = [item(0x10, Buffer.from('1.2.840.10008.3.1.1.1', 'latin1'))];
for (const [key, id] of contexts) {
  const [sopClass, syntax] = key.split('\\');
  const syntaxes = [syntax, ...(syntax === IMPLICIT_LE ? [] : [IMPLICIT_LE])];
  variable.push(
    item(
      0x20,
      Buffer.concat([
        Buffer.from([id, 0, 0, 0]),
        item(0x30, Buffer.from(sopClass, 'latin1')),
        ...syntaxes.map((s) => item(0x40, Buffer.from(s, 'latin1'))),
      ]),
    ),
  );
}
const maxLength = Buffer.alloc(4);
maxLength.writeUInt32BE(ourMaxPdu);
variable.push(
  item(0x50, Buffer.concat([item(0x51, maxLength), item(0x52, Buffer.from('1.2.3.4', 'latin1'))])),
);
const fixed = Buffer.alloc(68);
fixed.writeUInt16BE(1, 0);
ae(calledAe).copy(fixed, 4);
ae('BARESCU').copy(fixed, 20);
const body = Buffer.concat([fixed, ...variable]);
const rqHeader = Buffer.alloc(6);
rqHeader[0] = 0x01;
rqHeader.writeUInt32BE(body.length, 2);
socket.write(Buffer.concat([rqHeader, body]));

const ac = await nextPdu();
if (ac[0] !== 0x02) fail(`association not accepted (PDU type ${ac[0]})`);
let peerMaxPdu = 0;
const accepted = new Map(); // context id -> transfer syntax
for (let at = 74; at < ac.length; ) {
  const type = ac[at];
  const length = ac.readUInt16BE(at + 2);
  if (type === 0x21 && ac[at + 6] === 0) {
    const ts = ac.toString('latin1', at + 12, at + 12 + ac.readUInt16BE(at + 10));
    accepted.set(ac[at + 4], ts.replace(/\0+$/, ''));
  }
  if (type === 0x50) {
    for (let u = at + 4; u < at + 4 + length; ) {
      if (ac[u] === 0x51) peerMaxPdu = ac.readUInt32BE(u + 4);
      u += 4 + ac.readUInt16BE(u + 2);
    }
  }
  at += 4 + length;
}
const chunk = (peerMaxPdu || 16384) - 6;

let messageId = 0;
for (const o of objects) {
  const id = contexts.get(o.key);
  if (accepted.get(id) !== o.syntax) fail(`${o.path}: context not accepted in its syntax`);
  const { sopClass, sopInstance, dataSet } = readPart10(o.path);
  messageId = (messageId + 1) & 0xffff;
  const command = storeCommand(messageId, sopClass, sopInstance);
  const parts = [pdataHeader(id, 0x03, command.length), command];
  for (let at = 0; at < dataSet.length; at += chunk) {
    const piece = dataSet.subarray(at, Math.min(dataSet.length, at + chunk));
    parts.push(pdataHeader(id, at + chunk >= dataSet.length ? 0x02 : 0x00, piece.length), piece);
  }
  // Gathered writes of about 1 MiB (a small object in one), each after the
  // socket drained the last: no giant buffer for TLS to join, no queue.
  let queued = 0;
  socket.cork();
  for (const p of parts) {
    socket.write(p);
    queued += p.length;
    if (queued >= 1 << 20) {
      socket.uncork();
      if (socket.writableNeedDrain) await new Promise((resolve) => socket.once('drain', resolve));
      socket.cork();
      queued = 0;
    }
  }
  socket.uncork();
  // The C-STORE-RSP: one P-DATA-TF with the whole command (small), status at (0000,0900).
  const rsp = await nextPdu();
  if (rsp[0] !== 0x04) fail(`expected P-DATA-TF, got PDU type ${rsp[0]}`);
  const cmd = rsp.subarray(12);
  let status = -1;
  for (let at = 0; at + 8 <= cmd.length; ) {
    const tag = cmd.readUInt16LE(at + 2);
    const length = cmd.readUInt32LE(at + 4);
    if (tag === 0x0900) status = cmd.readUInt16LE(at + 8);
    at += 8 + length;
  }
  if (status !== 0) fail(`${o.path}: status ${status.toString(16)}`);
}

// A-RELEASE-RQ (PS3.8 §9.3.6), then the RP.
socket.write(Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
const rp = await nextPdu();
if (rp[0] !== 0x06) fail(`expected A-RELEASE-RP, got PDU type ${rp[0]}`);
socket.end();
