import { describe, expect, it } from 'vitest';
import { main } from './main.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) },
    out,
    err,
  };
}

describe('dnet-scp', () => {
  it('prints help and exits 0', async () => {
    const c = capture();
    expect(await main(['--help'], c.io)).toBe(0);
    expect(c.out.join('\n')).toContain('Usage:');
  });
  it('prints the conformance statement of its options and exits 0', async () => {
    const c = capture();
    expect(await main(['conformance', '--aet', 'STATED', '--max-pdu', '32768'], c.io)).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/^# dnet-scp DICOM Conformance (Statement|Summary)/);
    expect(text).toContain('Application Entity `STATED`');
    expect(text).toContain('| Maximum PDU size received | 32768 |');
  });
  it('exits 1 when the statement needs a file it cannot read', async () => {
    const c = capture();
    const args = [
      'conformance',
      '--tls',
      '--cert',
      '/nonexistent/c.pem',
      '--key',
      '/nonexistent/k.pem',
    ];
    expect(await main(args, c.io)).toBe(1);
    expect(c.err[0]).toMatch(/cannot describe this configuration/);
  });
  it('rejects an unknown command with exit 2', async () => {
    const c = capture();
    expect(await main(['frobnicate'], c.io)).toBe(2);
    expect(c.err[0]).toContain("unknown command 'frobnicate'");
  });
});
