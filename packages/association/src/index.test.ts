import { describe, expect, it } from 'vitest';
import { packageName, transition } from './index.js';

describe('@dnet/association', () => {
  it('names itself and exports the state machine', () => {
    expect(packageName).toBe('@dnet/association');
    expect(transition('Sta1', 'Evt5')?.next).toBe('Sta2');
  });
});
