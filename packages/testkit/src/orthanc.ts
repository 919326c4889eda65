/**
 * Orthanc started for a test on 127.0.0.1: its configuration file, DICOM and
 * HTTP ports, a bounded wait until both answer, its REST API, and a stop
 * that kills it by its PID. No test runner is imported here.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { type RunningPeer, startPeer } from './process.js';

/** A DICOM peer Orthanc knows (its `DicomModalities`); on 127.0.0.1 unless `host` is given. */
export interface OrthancModality {
  aeTitle: string;
  port: number;
  host?: string;
}

/** How to start Orthanc. */
export interface OrthancOptions {
  /** Folder for its configuration, storage, index and logs; a new temporary one (removed at stop) when absent. */
  dir?: string;
  /** DICOM port; a free one when absent. */
  port?: number;
  /** HTTP (REST) port; a free one when absent. */
  httpPort?: number;
  /** Its AE title (default `ORTHANC`). */
  aeTitle?: string;
  /**
   * Peers by symbolic name (`/modalities/{name}`). Orthanc answers C-FIND,
   * C-MOVE and C-GET only from registered AEs, moves only to them, and sends
   * Storage Commitment reports to them.
   */
  modalities?: Record<string, OrthancModality>;
  /** Further configuration keys (e.g. `DicomCheckCalledAet: true`), over the defaults. */
  config?: Record<string, unknown>;
  /** Startup deadline in ms for the DICOM port and the REST API each (default 30 000). */
  startTimeoutMs?: number;
}

/** A started Orthanc; `stop()` (or `await using`) kills it and removes a folder it made. */
export interface RunningOrthanc extends RunningPeer {
  /** Its HTTP (REST) port. */
  httpPort: number;
  /** Its AE title. */
  aeTitle: string;
  /** Folder of its configuration, storage, index and logs. */
  dir: string;
  /**
   * A REST call, bounded by 20 s: GET, or POST of `body` as JSON. Resolves
   * with the parsed JSON answer; rejects on an HTTP error status.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the REST answers' shapes are Orthanc's, checked by the tests
  rest(path: string, body?: unknown): Promise<any>;
}

/**
 * Starts `Orthanc` (see {@link startPeer}: TCP_NODELAY=1, 127.0.0.1 only, no
 * remote access, no authentication, no plugins) and waits until its DICOM
 * port listens and its REST API answers `/system`.
 *
 * @example
 * ```ts
 * await using orthanc = await startOrthanc({
 *   modalities: { dnet: { aeTitle: 'DNET', port: server.port } },
 * });
 * const stats = await orthanc.rest('/statistics');
 * ```
 */
export async function startOrthanc(options: OrthancOptions = {}): Promise<RunningOrthanc> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'dnet-orthanc-'));
  const removeDir = () => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    mkdirSync(join(dir, 'logs'), { recursive: true });
    const aeTitle = options.aeTitle ?? 'ORTHANC';
    const httpPort = options.httpPort ?? (await freePort());
    const startTimeoutMs = options.startTimeoutMs ?? 30_000;
    const config = join(dir, 'orthanc.json');
    const peer = await startPeer({
      command: 'Orthanc',
      ...(options.port !== undefined && { port: options.port }),
      args: (port) => {
        writeFileSync(
          config,
          JSON.stringify({
            Name: 'dnet-test',
            StorageDirectory: join(dir, 'storage'),
            IndexDirectory: join(dir, 'index'),
            HttpPort: httpPort,
            RemoteAccessAllowed: false,
            AuthenticationEnabled: false,
            DicomAet: aeTitle,
            DicomPort: port,
            Plugins: [],
            DicomModalities: Object.fromEntries(
              Object.entries(options.modalities ?? {}).map(([name, m]) => [
                name,
                { AET: m.aeTitle, Host: m.host ?? '127.0.0.1', Port: m.port },
              ]),
            ),
            ...options.config,
          }),
        );
        return [`--logdir=${join(dir, 'logs')}`, config];
      },
      startTimeoutMs,
    });
    const rest = async (path: string, body?: unknown) => {
      const r = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`Orthanc ${path}: HTTP ${r.status} ${text}`);
      return JSON.parse(text);
    };
    const stop = async () => {
      await peer.stop();
      removeDir();
    };
    const orthanc: RunningOrthanc = {
      ...peer,
      httpPort,
      aeTitle,
      dir,
      rest,
      stop,
      [Symbol.asyncDispose]: stop,
    };
    try {
      // The DICOM port can listen before the HTTP server: wait for both (bounded).
      await waitForPort(httpPort, { timeoutMs: startTimeoutMs });
      await rest('/system');
    } catch (err) {
      await peer.stop();
      throw new Error(`Orthanc's REST API did not answer: ${String(err)}\n${peer.log()}`);
    }
    return orthanc;
  } catch (err) {
    removeDir();
    throw err;
  }
}
