import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeDataSet, encodeDataSet, readPart10Header, TransferSyntax } from '@dnet/dataset';
import { describe, expect, it } from 'vitest';
import { findDicomFiles } from './dicom-files.js';
import { InvalidSourceError } from './errors.js';
import { hierarchy, tempDir, uidsOf, writeInstances } from './instances.test-support.js';
import { SopClass } from './sop-class.js';

const CT = SopClass.CT_IMAGE_STORAGE;

// Both ways of reading (the thread pool, blocking calls) find the same files for the same reasons.
describe.each([{ blockingFileReads: false }, { blockingFileReads: true }])(
  'findDicomFiles (%o)',
  (mode) => {
    it('follows symbolic links to files and folders, walks a looping folder once, reports dangling and looping links with their errno', async () => {
      await using dir = await tempDir();
      const data = join(dir.path, 'data');
      await mkdir(data);
      const [a, b] = await writeInstances(data, hierarchy(1, 1, 1, 2));
      const links = join(dir.path, 'links');
      await mkdir(links);
      await symlink(a!, join(links, 'a.dcm'));
      await symlink(data, join(links, 'folder'));
      await symlink(links, join(links, 'loop')); // links/loop -> links
      await symlink(join(dir.path, 'gone'), join(links, 'dangling'));
      await symlink(join(links, 'self-b'), join(links, 'self-a'));
      await symlink(join(links, 'self-a'), join(links, 'self-b'));
      const skipped: string[] = [];
      const found = await findDicomFiles([links], {
        ...mode,
        onSkip: (path, reason) => skipped.push(`${path.slice(links.length + 1)}: ${reason}`),
      });
      expect(found.map((f) => f.path.slice(links.length + 1))).toEqual([
        'a.dcm',
        `folder/${a!.slice(data.length + 1)}`,
        `folder/${b!.slice(data.length + 1)}`,
      ]);
      expect(skipped).toEqual([
        'dangling: cannot be read (ENOENT)',
        expect.stringMatching(/^loop: folder .* already walked \(a link loop\)$/),
        'self-a: cannot be read (ELOOP)',
        'self-b: cannot be read (ELOOP)',
      ]);
    });

    it('takes bare data sets with their inferred syntax, and the data set`s UIDs over a stale meta header', async () => {
      await using dir = await tempDir();
      const [file] = await writeInstances(dir.path, hierarchy(1, 1, 1, 1));
      const bytes = new Uint8Array(await readFile(file!));
      const header = readPart10Header(bytes);
      // A stale meta header: the instance UID in the meta changed, the data set's kept.
      const stale = Buffer.from(bytes);
      const metaUid = uidsOf({ patient: 1, study: 1, series: 1, instance: 1 }).instance;
      stale.write(metaUid.replace(/1$/, '9'), stale.indexOf(metaUid, 132), 'latin1');
      await writeFile(join(dir.path, 'stale.dcm'), stale);
      const ds = bytes.subarray(header.dataSetOffset);
      await writeFile(join(dir.path, 'bare-ele'), ds);
      const decoded = decodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian);
      await writeFile(
        join(dir.path, 'bare-ebe'),
        encodeDataSet(decoded, TransferSyntax.ExplicitVRBigEndian),
      );
      await writeFile(
        join(dir.path, 'notes.txt'),
        'not DICOM at all, but long enough to look at\n',
      );
      const skipped: string[] = [];
      const found = await findDicomFiles([dir.path], {
        ...mode,
        onSkip: (_path, reason) => skipped.push(reason),
      });
      const byName = new Map(found.map((f) => [f.path.slice(dir.path.length + 1), f]));
      expect(byName.get('bare-ele')).toMatchObject({
        transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
        fileMetaPresent: false,
        sopClassUid: CT,
        sopInstanceUid: metaUid,
      });
      expect(byName.get('bare-ebe')?.transferSyntaxUid).toBe(TransferSyntax.ExplicitVRBigEndian);
      expect(byName.get('stale.dcm')?.sopInstanceUid).toBe(metaUid);
      expect(skipped).toEqual([expect.stringMatching(/^not a DICOM file/)]);
    });

    it('throws InvalidSourceError for a path given that does not exist', async () => {
      await using dir = await tempDir();
      await expect(findDicomFiles([join(dir.path, 'gone')], mode)).rejects.toThrow(
        InvalidSourceError,
      );
    });
  },
);
