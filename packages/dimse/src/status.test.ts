import { describe, expect, it } from 'vitest';
import {
  describeStatus,
  formatStatus,
  isPending,
  isSuccessOrWarning,
  Status,
  statusCategory,
} from './status.js';

describe('status registry (PS3.7 Annex C, PS3.4)', () => {
  it('categorises by the ranges of PS3.7 §C.1', () => {
    const cases: [number, string][] = [
      [0x0000, 'success'],
      [0x0001, 'warning'],
      [0x0107, 'warning'],
      [0x0116, 'warning'],
      [0xb000, 'warning'],
      [0xb123, 'warning'],
      [0x0110, 'failure'],
      [0x0213, 'failure'],
      [0xa700, 'failure'],
      [0xa9ff, 'failure'],
      [0xc123, 'failure'],
      [0xfe00, 'cancel'],
      [0xff00, 'pending'],
      [0xff01, 'pending'],
      [0x1234, 'failure'],
    ];
    for (const [code, category] of cases)
      expect([code, statusCategory(code)]).toEqual([code, category]);
  });

  it('names the general codes of PS3.7 Annex C', () => {
    expect(describeStatus(Status.PROCESSING_FAILURE)).toEqual({
      code: 0x0110,
      category: 'failure',
      name: 'Processing failure',
      known: true,
    });
    expect(describeStatus(0x0122).name).toBe('Refused: SOP Class not supported');
    expect(describeStatus(0x0107).category).toBe('warning');
  });

  it('gives storage ranges A7xx, A9xx, Cxxx and warnings B000, B006, B007 (PS3.4 B.2.3)', () => {
    expect(describeStatus(0xa7f3, 'storage')).toMatchObject({
      category: 'failure',
      name: 'Refused: out of resources',
      known: true,
    });
    expect(describeStatus(0xa901, 'storage').name).toMatch(/does not match/);
    expect(describeStatus(0xc0de, 'storage').name).toMatch(/cannot understand/);
    expect(describeStatus(0xb000, 'storage').name).toBe('Coercion of data elements');
    expect(describeStatus(0xb006, 'storage').name).toBe('Elements discarded');
    expect(describeStatus(0xb007, 'storage').category).toBe('warning');
    // General codes still apply within a service.
    expect(describeStatus(0x0213, 'storage').name).toBe('Resource limitation');
  });

  it('gives the query/retrieve codes (PS3.4 C.4)', () => {
    expect(describeStatus(0xff01, 'find').category).toBe('pending');
    expect(describeStatus(0xa700, 'find').name).toMatch(/out of resources/);
    expect(describeStatus(0xa801, 'move').name).toMatch(/move destination unknown/);
    expect(describeStatus(0xa801, 'get').known).toBe(false);
    expect(describeStatus(0xa702, 'get').category).toBe('failure');
    expect(describeStatus(0xb000, 'move').name).toMatch(/one or more failures/);
    expect(describeStatus(0xfe00, 'move').category).toBe('cancel');
    expect(describeStatus(0xc001, 'find').name).toBe('Unable to process');
  });

  it('reports unknown codes with their range category', () => {
    expect(describeStatus(0x0300)).toEqual({
      code: 0x0300,
      category: 'failure',
      name: 'Unknown status',
      known: false,
    });
    expect(describeStatus(0xb555).category).toBe('warning');
  });

  it('has helpers', () => {
    expect(isPending(0xff01)).toBe(true);
    expect(isPending(0x0000)).toBe(false);
    expect(isSuccessOrWarning(0xb000)).toBe(true);
    expect(isSuccessOrWarning(0xa700)).toBe(false);
    expect(formatStatus(0xa7)).toBe('00A7H');
  });
});
