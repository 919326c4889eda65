import { describe, expect, it } from 'vitest';
import { COMMANDS, main } from './main.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('dnet-scu main', () => {
  it('prints help and exits 0', async () => {
    const c = capture();
    expect(await main(['--help'], c.io)).toBe(0);
    expect(c.out.join('\n')).toContain('Usage:');
    for (const name of Object.keys(COMMANDS))
      expect(c.out.join('\n')).toContain(`dnet-scu ${name} `);
  });

  it.each(Object.keys(COMMANDS))('has --help with usage for %s', async (name) => {
    const c = capture();
    expect(await main([name, '--help'], c.io)).toBe(0);
    const text = c.out.join('\n');
    expect(text).toContain(`Usage: dnet-scu ${name}`);
    // Every command but convert (files only) talks to a peer.
    if (name !== 'convert') expect(text).toContain('--aet');
  });

  it('gives examples in the help of every implemented command', async () => {
    for (const name of [
      'echo',
      'store',
      'find',
      'move',
      'get',
      'commit',
      'nget',
      'nset',
      'naction',
      'ncreate',
      'ndelete',
    ]) {
      const c = capture();
      await main([name, '-h'], c.io);
      expect(c.out.join('\n')).toMatch(new RegExp(`Examples:\\n  dnet-scu ${name} `));
    }
  });

  it('takes no name of an object property for a command', async () => {
    for (const name of ['toString', 'constructor', '__proto__']) {
      const c = capture();
      expect(await main([name], c.io)).toBe(2);
      expect(c.err[0]).toContain(`unknown command '${name}'`);
    }
  });

  it('rejects an unknown command with exit 2', async () => {
    const c = capture();
    expect(await main(['frobnicate'], c.io)).toBe(2);
    expect(c.err[0]).toContain("unknown command 'frobnicate'");
  });

  it('exits 2 with one line for a wrong command line', async () => {
    const cases: [string[], RegExp][] = [
      [['echo', '127.0.0.1'], /give <host> <port>/],
      [['echo', '127.0.0.1', '99999'], /--port must be an integer from 1 to 65535/],
      [['echo', '127.0.0.1', '104', '--frob'], /^dnet-scu echo: unknown option --frob \(try/],
      [['echo', '127.0.0.1', '104', '-x'], /^dnet-scu echo: unknown option -x \(try/],
      [['echo', '127.0.0.1', '104', '--aet'], /--aet needs a value/],
      [['echo', '127.0.0.1', '104', '--tls=yes'], /--tls takes no value/],
      [
        ['echo', '127.0.0.1', '104', '--aet', 'A'.repeat(17)],
        /--aet must be an AE title of 1 to 16/,
      ],
      [['echo', '127.0.0.1', '104', '-aec', 'A\\B'], /--aec must be an AE title/],
      [['echo', '127.0.0.1', '104', '--aec', '   '], /--aec must be an AE title/],
      [
        ['move', '127.0.0.1', '104', '--dest', 'D'.repeat(17), '-k', 'PatientID=1'],
        /--dest must be an AE title/,
      ],
      [
        ['echo', '127.0.0.1', '104', '--max-pdu', '10'],
        /--max-pdu must be 0 \(unlimited\) or an integer from 4096/,
      ],
      [['echo', '127.0.0.1', '104', '--max-pdu', '4095'], /--max-pdu must be 0/],
      [['echo', '127.0.0.1', '104', '--max-pdu=-1'], /--max-pdu must be 0/],
      [['echo', '127.0.0.1', '104', '--timeout', '0'], /--timeout must be an integer from 1/],
      [['find', '127.0.0.1', '104', '-k', 'NoSuchKeyword=1'], /unknown attribute 'NoSuchKeyword'/],
      [['find', '127.0.0.1', '104', '-P', '-W'], /choose one model/],
      [['find', '127.0.0.1', '104', '--level', 'FRAME'], /--level must be one of/],
      [['move', '127.0.0.1', '104', '-k', 'PatientID=1'], /--dest AET/],
      [['move', '127.0.0.1', '104', '-W', '--dest', 'X'], /worklist model has only C-FIND/],
      [['get', '127.0.0.1', '104'], /--out DIR/],
      [['store', '127.0.0.1', '104'], /at least one file/],
      [['store', '127.0.0.1', '104', '/no/such/file.dcm'], /no such file or folder/],
      [['echo', '127.0.0.1', '104', '--cert', 'c.pem'], /need --tls/],
      [['echo', '127.0.0.1', '104', '--password', 'x'], /--password needs --user/],
    ];
    for (const [argv, message] of cases) {
      const c = capture();
      expect(await main(argv, c.io), argv.join(' ')).toBe(2);
      expect(c.err).toHaveLength(1);
      expect(c.err[0]).toMatch(message);
    }
  });

  it('with --json a wrong command line is one JSON error object on stdout', async () => {
    const c = capture();
    expect(await main(['echo', '127.0.0.1', '104', '--json', '--frob'], c.io)).toBe(2);
    expect(c.err).toEqual([]);
    expect(c.out.map((l) => JSON.parse(l))).toEqual([
      { type: 'error', code: 'DNET_SCU_USAGE', message: 'unknown option --frob' },
    ]);
  });

  it('accepts DCMTK-style flags (-aet, -aec, -aem, -od)', async () => {
    const c = capture();
    // The wrong port shows the flags were understood before connecting.
    expect(
      await main(['move', '127.0.0.1', '0', '-aet', 'A', '-aec', 'B', '-aem', 'C'], c.io),
    ).toBe(2);
    expect(c.err[0]).toMatch(/--port/);
  });

  it('mpps wants create, complete or discontinue, and a step to end', async () => {
    const c = capture();
    expect(await main(['mpps', '127.0.0.1', '104'], c.io)).toBe(2);
    expect(await main(['mpps', '127.0.0.1', '104', 'complete'], c.io)).toBe(2);
    expect(c.err).toEqual([
      expect.stringContaining('give create, complete or discontinue'),
      expect.stringContaining('give the step to complete with --instance UID'),
    ]);
  });

  it('prints the version', async () => {
    const c = capture();
    expect(await main(['--version'], c.io)).toBe(0);
    expect(c.out[0]).toMatch(/^dnet-scu \d+\.\d+\.\d+$/);
  });
});
