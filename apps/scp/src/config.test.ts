import { mkdtemp, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostNodeId, MAX_WORKERS, parseCommandLine, parsePeer } from './config.js';
import { ConfigError } from './errors.js';

const config = (argv: string[]) => parseCommandLine(argv).config!;

describe('parseCommandLine', () => {
  it('has the defaults of the issue', () => {
    const c = config([]);
    expect(c).toMatchObject({
      port: 11112,
      aeTitle: 'DNETSCP',
      storage: resolve('dnet-data'),
      db: resolve('dnet-data', 'index.sqlite'),
      peers: {},
      allowAeTitles: [],
      tls: undefined,
      logLevel: 'info',
      gcEveryMib: 8,
    });
  });

  it('reads --gc-every-mib (0 turns the pacing off) and refuses nonsense', () => {
    expect(config(['--gc-every-mib', '0']).gcEveryMib).toBe(0);
    expect(config(['--gc-every-mib', '32']).gcEveryMib).toBe(32);
    expect(() => config(['--gc-every-mib', '-1'])).toThrow(ConfigError);
    expect(() => config(['--gc-every-mib', 'lots'])).toThrow(ConfigError);
  });

  it('reads --workers and workers (default 1, one process; auto the core count) and refuses nonsense', async () => {
    expect(config([]).workers).toBe(1);
    expect(config(['--workers', 'auto']).workers).toBe(availableParallelism());
    expect(config(['--workers', '1']).workers).toBe(1);
    expect(config(['--workers', '3']).workers).toBe(3);
    for (const bad of ['0', '-2', '2.5', 'many', String(MAX_WORKERS + 1)]) {
      expect(() => config([`--workers=${bad}`])).toThrow(
        /--workers must be auto or an integer from 1 to 256/,
      );
    }
    const dir = await mkdtemp(join(tmpdir(), 'dnet-scp-config-'));
    const file = join(dir, 'scp.json');
    await writeFile(file, JSON.stringify({ workers: 4 }));
    expect(config(['--config', file]).workers).toBe(4);
    expect(config(['--config', file, '--workers', '2']).workers).toBe(2);
    await writeFile(file, JSON.stringify({ workers: 'four' }));
    expect(() => config(['--config', file])).toThrow(ConfigError);
  });

  it('listens on 2762 by default with --tls (PS3.15 Annex B)', () => {
    expect(config(['--tls', '--cert', 'c.pem', '--key', 'k.pem']).port).toBe(2762);
    expect(config(['--tls', '--cert', 'c.pem', '--key', 'k.pem', '--port', '104']).port).toBe(104);
  });

  it('keeps a PostgreSQL URL as given and checks --node-id', () => {
    const url = 'postgres://dnet@127.0.0.1:5432/archive';
    expect(config(['--db', url, '--node-id', 'node-1'])).toMatchObject({
      db: url,
      nodeId: 'node-1',
    });
    expect(config(['--db', 'x.sqlite']).db).toBe(resolve('x.sqlite'));
    expect(config([]).nodeId).toBeUndefined();
    expect(() => parseCommandLine(['--node-id', '../evil'])).toThrow(ConfigError);
  });

  it('names a node on a PostgreSQL index after its host when --node-id is absent', () => {
    const url = 'postgres://dnet@127.0.0.1:5432/archive';
    expect(config(['--db', url]).nodeId).toBe(hostNodeId());
    expect(hostNodeId()).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(hostNodeId('pacs.example.org')).toBe('pacs-example-org');
    expect(hostNodeId('')).toBe('node');
    expect(hostNodeId('x'.repeat(80))).toHaveLength(64);
  });

  it('reads every option', () => {
    const c = config([
      '--port',
      '104',
      '--aet',
      'ARCHIVE',
      '--storage',
      '/tmp/x',
      '--host',
      '127.0.0.1',
      '--max-pdu',
      '65536',
      '--peer',
      'DEST=127.0.0.1:11113',
      '--peer',
      'OTHER=pacs.example:104',
      '--allow-aet',
      'MODALITY',
      '--allow-aet',
      'WS',
      '--max-associations',
      '8',
      '--worklist',
      '/tmp/wl',
      '--tls',
      '--cert',
      'c.pem',
      '--key',
      'k.pem',
      '--ca',
      'ca.pem',
      '--require-client-cert',
      '--log-level',
      'debug',
    ]);
    expect(c).toMatchObject({
      port: 104,
      aeTitle: 'ARCHIVE',
      storage: '/tmp/x',
      db: '/tmp/x/index.sqlite',
      host: '127.0.0.1',
      maxPdu: 65536,
      peers: {
        DEST: { host: '127.0.0.1', port: 11113 },
        OTHER: { host: 'pacs.example', port: 104 },
      },
      allowAeTitles: ['MODALITY', 'WS'],
      maxAssociations: 8,
      worklist: '/tmp/wl',
      tls: { cert: 'c.pem', key: 'k.pem', ca: 'ca.pem', requireClientCert: true },
      logLevel: 'debug',
    });
  });

  it('reads --on-duplicate and onDuplicate (default keep) and refuses other policies', async () => {
    expect(config([]).onDuplicate).toBe('keep');
    expect(config(['--on-duplicate', 'replace']).onDuplicate).toBe('replace');
    expect(config(['--on-duplicate', 'reject']).onDuplicate).toBe('reject');
    expect(() => config(['--on-duplicate', 'overwrite'])).toThrow(
      /--on-duplicate must be one of keep, replace, reject/,
    );
    const dir = await mkdtemp(join(tmpdir(), 'dnet-scp-config-'));
    const file = join(dir, 'scp.json');
    await writeFile(file, JSON.stringify({ onDuplicate: 'reject' }));
    expect(config(['--config', file]).onDuplicate).toBe('reject');
    expect(config(['--config', file, '--on-duplicate', 'keep']).onDuplicate).toBe('keep');
    await writeFile(file, JSON.stringify({ onDuplicate: true }));
    expect(() => config(['--config', file])).toThrow(ConfigError);
  });

  it('reads --store-as (a name or UID the codecs write) and --lossy, lossless by default', async () => {
    expect(config([]).storeAs).toBeUndefined();
    expect(config(['--store-as', 'jpeg-ls-lossless']).storeAs).toEqual({
      transferSyntaxUid: '1.2.840.10008.1.2.4.80',
      lossy: false,
    });
    expect(config(['--store-as', '1.2.840.10008.1.2.5']).storeAs?.transferSyntaxUid).toBe(
      '1.2.840.10008.1.2.5',
    );
    expect(() => config(['--store-as', 'jpeg-2001'])).toThrow(
      /--store-as: unknown transfer syntax/,
    );
    // A syntax that can only lose information needs --lossy.
    expect(() => config(['--store-as', 'jpeg-baseline'])).toThrow(/add --lossy/);
    expect(config(['--store-as', 'jpeg-baseline', '--lossy']).storeAs).toEqual({
      transferSyntaxUid: '1.2.840.10008.1.2.4.50',
      lossy: true,
    });
    expect(() => config(['--lossy'])).toThrow(/--lossy needs --store-as/);
    const dir = await mkdtemp(join(tmpdir(), 'dnet-scp-config-'));
    const file = join(dir, 'scp.json');
    await writeFile(file, JSON.stringify({ storeAs: 'rle' }));
    expect(config(['--config', file]).storeAs?.transferSyntaxUid).toBe('1.2.840.10008.1.2.5');
    await writeFile(file, JSON.stringify({ storeAs: 5 }));
    expect(() => config(['--config', file])).toThrow(ConfigError);
  });

  it('takes a JSON config file, the command line winning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dnet-scp-config-'));
    const file = join(dir, 'scp.json');
    await writeFile(
      file,
      JSON.stringify({
        port: 4242,
        aet: 'FROMFILE',
        storage: '/srv/dicom',
        peers: { DEST: '10.0.0.1:104', OTHER: { host: 'h', port: 5 } },
        allowAet: ['A'],
        tls: { cert: 'c', key: 'k' },
      }),
    );
    const c = config(['--config', file, '--port', '4343', '--peer', 'THIRD=h3:3']);
    expect(c).toMatchObject({
      port: 4343,
      aeTitle: 'FROMFILE',
      storage: '/srv/dicom',
      peers: {
        DEST: { host: '10.0.0.1', port: 104 },
        OTHER: { host: 'h', port: 5 },
        THIRD: { host: 'h3', port: 3 },
      },
      allowAeTitles: ['A'],
      tls: { cert: 'c', key: 'k', requireClientCert: false },
    });
    await writeFile(file, JSON.stringify({ prot: 1 }));
    expect(() => config(['--config', file])).toThrow(/unknown setting 'prot'/);
    await writeFile(file, '{');
    expect(() => config(['--config', file])).toThrow(ConfigError);
  });

  it.each([
    [['--port', '70000'], /--port must be an integer/],
    [['--port', 'abc'], /--port must be an integer/],
    [['--max-pdu', '100'], /--max-pdu/],
    [['--aet', 'THIS_TITLE_IS_TOO_LONG'], /not an AE title/],
    [['--aet', 'BACK\\SLASH'], /not an AE title/],
    [['--peer', 'DEST'], /AET=host:port/],
    [['--tls'], /--tls needs --cert and --key/],
    [['--cert', 'c.pem'], /need --tls/],
    [['--tls', '--cert', 'c', '--key', 'k', '--require-client-cert'], /needs --ca/],
    [['--log-level', 'loud'], /--log-level/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['serve'], /unknown command 'serve'/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(message);
    expect(() => parseCommandLine(argv)).toThrow(ConfigError);
  });

  it('takes the conformance command with the same options', () => {
    expect(parseCommandLine(['--aet', 'A'])).toMatchObject({ command: 'serve' });
    const parsed = parseCommandLine(['conformance', '--aet', 'A', '--port', '104']);
    expect(parsed).toMatchObject({ command: 'conformance', config: { aeTitle: 'A', port: 104 } });
    expect(() => parseCommandLine(['conformance', 'more'])).toThrow(/unexpected argument 'more'/);
  });

  it('parses peers with IPv6 literals', () => {
    expect(parsePeer('DEST=[::1]:104')).toEqual(['DEST', { host: '::1', port: 104 }]);
  });
});
