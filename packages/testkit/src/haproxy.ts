/**
 * HAProxy's runtime API for tests: the servers of a backend as `show stat`
 * over the admin socket reports them. No test runner is imported here.
 */
import { createConnection } from 'node:net';

/** One server of a backend, from `show stat`. */
export interface HaproxyServer {
  /** `svname`. */
  name: string;
  /** `status`: `UP`, `DOWN`, `MAINT`, `no check`... */
  status: string;
  /** `check_status` (e.g. `L7OK`, `L4CON`), without the `* ` of a check under way. */
  check: string;
}

/**
 * `show stat` over HAProxy's admin socket (a `stats socket ... level admin`
 * line in its configuration), bounded by `timeoutMs`: the servers of
 * `backend`, read by the names of the CSV header's columns.
 */
export function haproxyServers(
  socket: string,
  backend: string,
  { timeoutMs = 5_000 }: { timeoutMs?: number } = {},
): Promise<HaproxyServer[]> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let text = '';
    const timer = setTimeout(
      () => conn.destroy(new Error(`HAProxy stats socket: no answer in ${timeoutMs} ms`)),
      timeoutMs,
    );
    conn.on('data', (d) => {
      text += d.toString();
    });
    conn.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    conn.on('close', () => {
      clearTimeout(timer);
      const [head, ...rows] = text.trim().split('\n');
      const columns = (head ?? '').replace(/^# /, '').split(',');
      const col = (name: string) => columns.indexOf(name);
      resolve(
        rows
          .map((r) => r.split(','))
          .filter(
            (c) =>
              c[col('pxname')] === backend &&
              !['FRONTEND', 'BACKEND'].includes(c[col('svname')] ?? ''),
          )
          .map((c) => ({
            name: c[col('svname')] ?? '',
            status: c[col('status')] ?? '',
            // HAProxy prefixes "* " while a check of that server is under way.
            check: (c[col('check_status')] ?? '').replace(/^\* /, ''),
          })),
      );
    });
    conn.write('show stat\n');
  });
}
