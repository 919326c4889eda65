import { join } from 'node:path';
import { describePeer, runTool } from '@dnet/testkit';
import { expect, it } from 'vitest';
import { syntheticImages } from './synthetic-images.js';
import { useTlsScp } from './tls-scp.test-support.js';

describePeer(['openssl', 'echoscu', 'storescu'], 'dnet-scp over TLS with DCMTK', () => {
  const tls = useTlsScp('dnet-scp-tls-', { args: ['--require-client-cert'] });

  it('stores over mutually authenticated TLS', async () => {
    const images = await syntheticImages(join(tls.dir, 'images'), { count: 3 });
    const r = await runTool('storescu', [
      ...tls.pki.dcmtkArgs('client'),
      '-aec',
      'DNETSCP',
      '127.0.0.1',
      String(tls.scp.port),
      ...images.map((i) => i.path),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(await tls.scp.scp.index.count()).toMatchObject({ instances: 3 });
    expect(tls.scp.logs.find((l) => l.event === 'association')).toMatchObject({ encrypted: true });
  }, 30_000);

  it('refuses a client without a certificate', async () => {
    const r = await runTool('echoscu', [
      '+tla',
      '-ic',
      '-aec',
      'DNETSCP',
      '127.0.0.1',
      String(tls.scp.port),
    ]);
    expect(r.code).not.toBe(0);
  }, 30_000);
});
