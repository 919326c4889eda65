import { readdir } from 'node:fs/promises';
import type { CStoreRq } from '@dnet/dimse';
import { describe, expect, it } from 'vitest';
import { tempDir } from './instances.test-support.js';
import { type ReceivedInstance, sinkFailure, writeToFolder } from './received-instance.js';

function instance(sopInstanceUid: string): ReceivedInstance {
  return {
    sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
    sopInstanceUid,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    dataSet: (async function* () {
      yield new Uint8Array([0x08, 0x00, 0x16, 0x00]);
    })(),
    message: {} as CStoreRq,
  };
}

describe('writeToFolder', () => {
  it('refuses SOP Instance UIDs that are not UIDs (PS3.5 §9.1) with 0117H and writes nothing', async () => {
    await using dir = await tempDir();
    for (const uid of ['../../etc/passwd', '1.2/3', '', '1.2.3 ', `1.${'2'.repeat(70)}`]) {
      expect(await writeToFolder(dir.path, instance(uid))).toBe(0x0117);
    }
    expect(await readdir(dir.path)).toEqual([]);
  });

  it('writes <uid>.dcm for a valid UID', async () => {
    await using dir = await tempDir();
    expect(await writeToFolder(dir.path, instance('1.2.840.99.1'))).toBe(0);
    expect(await readdir(dir.path)).toEqual(['1.2.840.99.1.dcm']);
  });
});

describe('sinkFailure', () => {
  it('answers a local storage failure with A700H and its system code, no path (PS3.4 Table B.2-1)', () => {
    for (const code of ['ENOSPC', 'EROFS', 'EACCES']) {
      const error = Object.assign(new Error(`${code}: failed, open '/srv/dicom/1.2.dcm.tmp'`), {
        code,
      });
      expect(sinkFailure(error)).toEqual({
        status: 0xa700,
        errorComment: `cannot store here: ${code}`,
      });
    }
  });

  it('answers any other failure with C000H and its message', () => {
    expect(sinkFailure(new Error('bad data set'))).toEqual({
      status: 0xc000,
      errorComment: 'bad data set',
    });
  });
});
