import { TransferSyntax } from '@dnet/dataset';
import { memory } from '@dnet/transport';
import { Client } from './client.js';
import { hierarchy, makeInstance } from './instances.test-support.js';
import { MemoryArchive } from './memory-archive.js';
import { Server, type ServerHandlers } from './server.js';
import { SopClass } from './sop-class.js';

// Test support of the Server tests (CONTRIBUTING.md, "Test support"): a Server
// and its clients over the memory transport.

export const CT = SopClass.CT_IMAGE_STORAGE;
export const ELE = TransferSyntax.ExplicitVRLittleEndian;
export const ILE = TransferSyntax.ImplicitVRLittleEndian;

/** A Server with `handlers` on the memory transport, and a `connect` to it as SCU. */
export async function setup(
  handlers: ServerHandlers,
  extra: Partial<Parameters<typeof Server.listen>[0]> = {},
) {
  const transport = memory();
  const server = await Server.listen({ transport, port: 0, aeTitle: 'SCP', handlers, ...extra });
  const connect = (contexts: Parameters<typeof Client.connect>[0]['contexts'], more = {}) =>
    Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts,
      ...more,
    });
  return { transport, server, connect };
}

/**
 * A C-MOVE set-up on the memory transport: a destination Server `DEST`
 * storing with `store`, a source Server `SCP` serving `archive` with `DEST`
 * in its AE table (and `extra` options), and `connect` to the source as SCU.
 * `close()` stops both servers.
 */
export async function moveSetup(
  archive: MemoryArchive,
  store: NonNullable<ServerHandlers['store']>,
  extra: Partial<Parameters<typeof Server.listen>[0]> = {},
) {
  const transport = memory();
  const destination = await Server.listen({
    transport,
    port: 0,
    aeTitle: 'DEST',
    handlers: { store },
  });
  const source = await Server.listen({
    transport,
    port: 0,
    aeTitle: 'SCP',
    handlers: archive.handlers(),
    aeTable: { DEST: { host: '127.0.0.1', port: destination.port } },
    ...extra,
  });
  const connect = (contexts: Parameters<typeof Client.connect>[0]['contexts']) =>
    Client.connect({
      transport,
      host: '127.0.0.1',
      port: source.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts,
    });
  const close = async () => {
    await source.close();
    await destination.close();
  };
  return { connect, close };
}

/** A promise and the function that resolves it. */
export function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Every value of an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A MemoryArchive holding `specs` (default 2 patients x 2 studies x 2 series x 2 instances). */
export async function archiveWith(specs = hierarchy(2, 2, 2, 2)) {
  const archive = new MemoryArchive();
  for (const s of specs) await archive.add(makeInstance(s));
  return archive;
}
