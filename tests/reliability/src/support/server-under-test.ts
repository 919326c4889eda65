import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage } from '@dnet/dimse';
import type { Pdu } from '@dnet/pdu';
import { Client, Server, type ServerOptions, storeToFolder, verification } from '@dnet/services';
import type { Transport } from '@dnet/transport';

/** A Server storing into `<root>/storage`, with `root` checked for strays afterwards. */
export async function startStoringServer(
  transport: Transport,
  extra: Partial<ServerOptions> = {},
): Promise<{
  server: Server;
  root: string;
  storage: string;
  errors: Error[];
  stop(): Promise<void>;
}> {
  const root = mkdtempSync(join(tmpdir(), 'dnet-rel-'));
  const storage = join(root, 'storage');
  mkdirSync(storage);
  const server = await Server.listen({
    transport,
    host: '127.0.0.1',
    port: 0,
    aeTitle: 'SCP',
    handlers: {
      echo: () => 0,
      store: storeToFolder(storage),
      find: function* () {
        yield { '00100020': { vr: 'LO', Value: ['P1'] } };
      },
    },
    timeouts: { artimMs: 1000, acseMs: 1000, idleMs: 2000, dimseMs: 2000 },
    ...extra,
  });
  const errors: Error[] = [];
  server.on('error', (e) => errors.push(e));
  return {
    server,
    root,
    storage,
    errors,
    async stop() {
      await server.close({ timeoutMs: 1000 });
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Every file under `dir`, relative paths. */
export function filesUnder(dir: string, prefix = ''): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full, `${prefix}${name}/`));
    else out.push(`${prefix}${name}`);
  }
  return out;
}

/**
 * The temporary files in dnet-scp's `<storage>/.incoming` that stand for
 * objects not committed: every `.part` file but one empty one, the file
 * dnet-scp makes ahead for its next object (`prepareNext` of its storage; at
 * most one exists). Paths relative to `.incoming`.
 */
export function partialFiles(storageDir: string): string[] {
  const incoming = join(storageDir, '.incoming');
  const parts = filesUnder(incoming).filter((f) => f.endsWith('.part'));
  const ahead = parts.find((f) => statSync(join(incoming, f)).size === 0);
  return parts.filter((f) => f !== ahead);
}

/** C-ECHO through a fresh Client: 0 when the server still answers. */
export async function echoStatus(
  transport: Transport,
  port: number,
  called = 'SCP',
): Promise<number> {
  const client = await Client.connect({
    transport,
    host: '127.0.0.1',
    port,
    callingAeTitle: 'CHECK',
    calledAeTitle: called,
    contexts: [verification()],
  });
  try {
    return await client.echo();
  } finally {
    await client.release();
  }
}

/** The DIMSE statuses of the command PDVs among `pdus`. */
export function statuses(pdus: readonly Pdu[]): number[] {
  const out: number[] = [];
  for (const p of pdus) {
    if (p.type !== 0x04) continue;
    for (const pdv of p.pdvs) {
      if (!pdv.command) continue;
      const m = decodeMessage(pdv.data) as { status?: number };
      if (m.status !== undefined) out.push(m.status);
    }
  }
  return out;
}
