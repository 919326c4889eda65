import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startOrthanc } from './orthanc.js';
import { describePeer } from './peers.js';
import { runTool } from './process.js';

describePeer(['Orthanc', 'echoscu'], 'testkit Orthanc', () => {
  it('starts Orthanc with its modalities, answers DICOM and REST, and is stopped and removed', async () => {
    const orthanc = await startOrthanc({
      aeTitle: 'TESTKIT',
      modalities: { dnet: { aeTitle: 'DNET', port: 104 } },
      config: { DicomCheckCalledAet: true },
    });
    const dir = orthanc.dir;
    try {
      const config = JSON.parse(readFileSync(join(dir, 'orthanc.json'), 'utf8'));
      expect(config).toMatchObject({ DicomPort: orthanc.port, DicomCheckCalledAet: true });
      expect(await orthanc.rest('/modalities')).toEqual(['dnet']);
      expect((await orthanc.rest('/system')).DicomAet).toBe('TESTKIT');
      const echo = await runTool('echoscu', ['-aec', 'TESTKIT', '127.0.0.1', String(orthanc.port)]);
      expect(echo.code, echo.stderr).toBe(0);
      await expect(orthanc.rest('/no-such-route')).rejects.toThrow(/HTTP 404/);
    } finally {
      await orthanc.stop();
    }
    expect(orthanc.process.exitCode !== null || orthanc.process.signalCode !== null).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});
