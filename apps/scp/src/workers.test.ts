import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INCOMING_FOLDER } from '@dnet/archive';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeWorkerTemporaryFiles, workerNodeId } from './workers.js';

describe('worker temporary folders', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dnet-scp-workers-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const part = async (folder: string, name = 'x.part') => {
    await mkdir(join(root, INCOMING_FOLDER, folder), { recursive: true });
    const path = join(root, INCOMING_FOLDER, folder, name);
    await writeFile(path, 'partial');
    return path;
  };

  it('names each worker after its node (a node id stays within 64 characters)', () => {
    expect(workerNodeId(undefined, 3)).toBe('w3');
    expect(workerNodeId('node-1', 12)).toBe('node-1-w12');
    expect(workerNodeId('n'.repeat(64), 256).length).toBeLessThanOrEqual(64);
  });

  it('the primary removes what the workers of any earlier count left, and only theirs', async () => {
    const mine = [await part('w1'), await part('w7')];
    const others = [await part('w1x'), await part('node-2-w1'), await part('shared', 'y.part')];
    expect(await removeWorkerTemporaryFiles(root, undefined)).toBe(2);
    for (const p of mine) expect(existsSync(p)).toBe(false);
    for (const p of others) expect(existsSync(p)).toBe(true);
    const node = await part('node-1-w2');
    expect(await removeWorkerTemporaryFiles(root, 'node-1')).toBe(1);
    expect(existsSync(node)).toBe(false);
    expect(existsSync(others[1] as string)).toBe(true);
  });

  it('finds nothing to do without an .incoming folder', async () => {
    expect(await removeWorkerTemporaryFiles(join(root, 'none'), undefined)).toBe(0);
  });
});
