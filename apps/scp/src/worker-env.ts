/**
 * The environment variable that makes a dnet-scp process a worker of a
 * `--workers` primary (workers.ts): its slot and configuration, JSON. A
 * module of its own so the command line can tell a worker before loading
 * what serves associations.
 */
export const WORKER_ENV = 'DNET_SCP_WORKER';
