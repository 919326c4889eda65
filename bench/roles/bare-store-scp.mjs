// The floor of the "storescu -> dnet-scp" rows: the least a Node program must
// do to receive C-STORE and keep the durability rule dnet-scp keeps (success
// only once the object is durably on disk: written, fdatasync'd, renamed into
// place, its folder fsync'd). No library, no index, no checks beyond what the
// exchange needs: hand-made PDUs (PS3.8 §9.3), every presentation context
// accepted with the first transfer syntax proposed, each data set written as
// it arrives into a file opened ahead, with blocking calls (on tmpfs they
// cost less than a thread-pool round trip each). Plain JavaScript, run by
// `node` itself.
//
//   node bench/roles/bare-store-scp.mjs PORT DIR MAX_PDU
//   node bench/roles/bare-store-scp.mjs --tls=key.pem,cert.pem,ca.pem PORT ...: over TLS
//   (PS3.15 Annex B), the client's certificate required.
//   node bench/roles/bare-store-scp.mjs --processes=N PORT ...: N processes (node:cluster)
//   sharing the port, as storescp --fork serves each association in a process of its own.
//
// Prints "listening" once it accepts; serves until killed.
import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const options = process.argv.slice(2).filter((a) => a.startsWith('--'));
const tlsOption = options.find((a) => a.startsWith('--tls='));
const processes = Number(options.find((a) => a.startsWith('--processes='))?.slice(12) ?? 1);
const [portText, dir, maxPduText] = process.argv.slice(2 + options.length);
const maxPdu = Number(maxPduText);
const cluster = (await import('node:cluster')).default;
if (processes > 1 && cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < processes; i++)
    cluster.fork().on('listening', () => {
      if (++listening === processes) console.log('listening');
    });
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.kill();
    process.exit(0);
  });
  await new Promise(() => {});
}
mkdirSync(join(dir, 'incoming'), { recursive: true });
const folder = openSync(dir, 'r');
let serial = 0;

function item(type, body) {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

/** The A-ASSOCIATE-AC for an RQ: every context accepted in its first syntax (PS3.8 §9.3.3). */
function associateAc(rq) {
  const items = [item(0x10, Buffer.from('1.2.840.10008.3.1.1.1', 'latin1'))];
  for (let at = 74; at < rq.length; ) {
    const type = rq[at];
    const length = rq.readUInt16BE(at + 2);
    if (type === 0x20) {
      const id = rq[at + 4];
      let syntax;
      for (let s = at + 8; s < at + 4 + length; ) {
        const sl = rq.readUInt16BE(s + 2);
        if (rq[s] === 0x40 && syntax === undefined) syntax = rq.subarray(s + 4, s + 4 + sl);
        s += 4 + sl;
      }
      items.push(item(0x21, Buffer.concat([Buffer.from([id, 0, 0, 0]), item(0x40, syntax)])));
    }
    at += 4 + length;
  }
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(maxPdu);
  items.push(
    item(
      0x50,
      Buffer.concat([item(0x51, maxLength), item(0x52, Buffer.from('1.2.3.4', 'latin1'))]),
    ),
  );
  const fixed = Buffer.from(rq.subarray(6, 74));
  const body = Buffer.concat([fixed, ...items]);
  const header = Buffer.alloc(6);
  header[0] = 0x02;
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** The elements of a command set (Implicit VR Little Endian), by element number. */
function commandElements(bytes) {
  const out = new Map();
  for (let at = 0; at + 8 <= bytes.length; ) {
    const element = bytes.readUInt16LE(at + 2);
    const length = bytes.readUInt32LE(at + 4);
    out.set(element, bytes.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  return out;
}

function element(tag, value) {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(tag, 2);
  h.writeUInt32LE(value.length, 4);
  return [h, value];
}

function us(n) {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

/** A C-STORE-RSP with status 0000H (PS3.7 §9.3.1.2) in one P-DATA-TF. */
function storeRsp(contextId, rq) {
  const body = Buffer.concat([
    ...element(0x0002, rq.get(0x0002)),
    ...element(0x0100, us(0x8001)),
    ...element(0x0120, rq.get(0x0110)),
    ...element(0x0800, us(0x0101)),
    ...element(0x0900, us(0)),
    ...element(0x1000, rq.get(0x1000)),
  ]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  const command = Buffer.concat([...element(0x0000, length), body]);
  const h = Buffer.alloc(12);
  h[0] = 0x04;
  h.writeUInt32BE(command.length + 6, 2);
  h.writeUInt32BE(command.length + 2, 6);
  h[10] = contextId;
  h[11] = 0x03;
  return Buffer.concat([h, command]);
}

function serve(socket) {
  socket.setNoDelay(true);
  // A streaming parser (PS3.8 §9.3.1, §9.3.5): headers gathered byte-exact,
  // data set bytes written straight from the socket's chunks (no copy).
  let header = []; // bytes of a PDU or PDV header, or of a whole non-data PDU
  let headerNeed = 6;
  let pduLeft = 0; // bytes of the P-DATA-TF being read not consumed yet
  let pdvLeft = 0; // bytes of the PDV being read not consumed yet
  let pdv; // { contextId, control }
  let command = [];
  let rq;
  /** The file the next data set goes to, opened ahead. */
  let next = openAhead();
  let file;
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (pdvLeft > 0) {
        const n = Math.min(pdvLeft, chunk.length - at);
        const bytes = chunk.subarray(at, at + n);
        at += n;
        pdvLeft -= n;
        pduLeft -= n;
        if (pdv.control & 1) command.push(bytes);
        else writeSync(file.fd, bytes);
        if (pdvLeft === 0) endPdv();
        continue;
      }
      const n = Math.min(headerNeed - header.length, chunk.length - at);
      for (let i = 0; i < n; i++) header.push(chunk[at + i]);
      at += n;
      if (header.length < headerNeed) continue;
      const h = Buffer.from(header);
      header = [];
      if (pduLeft > 0) {
        // A PDV item header: length (4), context ID, message control header.
        pduLeft -= 6;
        pdvLeft = h.readUInt32BE(0) - 2;
        pdv = { contextId: h[4], control: h[5] };
        headerNeed = 6;
        if (pdvLeft === 0) endPdv();
      } else if (headerNeed === 6) {
        const length = h.readUInt32BE(2);
        if (h[0] === 0x04) pduLeft = length;
        else {
          // A PDU of another type: gathered whole, its header included.
          header = [...h];
          headerNeed = 6 + length;
        }
      } else {
        headerNeed = 6;
        onPdu(h);
      }
    }
  });
  function endPdv() {
    if (!(pdv.control & 2)) return;
    if (pdv.control & 1) {
      rq = commandElements(Buffer.concat(command));
      command = [];
      file = next;
      next = undefined;
    } else commit(pdv.contextId);
  }
  function onPdu(pdu) {
    if (pdu[0] === 0x01) socket.write(associateAc(pdu));
    else if (pdu[0] === 0x05) socket.end(Buffer.from([0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
    else socket.destroy();
  }
  function commit(contextId) {
    fdatasyncSync(file.fd);
    closeSync(file.fd);
    const uid = rq.get(0x1000).toString('latin1').replace(/\0+$/, '');
    renameSync(file.path, join(dir, `${uid}.dcm`));
    fsyncSync(folder);
    socket.write(storeRsp(contextId, rq));
    next = openAhead();
  }
}

function openAhead() {
  const path = join(dir, 'incoming', `${process.pid}-${serial++}.part`);
  return { path, fd: openSync(path, 'wx') };
}

const tlsFiles = tlsOption?.slice('--tls='.length).split(',');
const server = tlsFiles
  ? (await import('node:tls')).createServer(
      {
        key: readFileSync(tlsFiles[0]),
        cert: readFileSync(tlsFiles[1]),
        ca: readFileSync(tlsFiles[2]),
        requestCert: true,
        rejectUnauthorized: true,
      },
      serve,
    )
  : createServer({ noDelay: true }, serve);
server.listen(Number(portText), '127.0.0.1', () => {
  if (processes === 1) console.log('listening');
});
