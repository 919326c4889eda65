import { describe, expect, it } from 'vitest';
import { CommandField } from './index.js';

describe('CommandField', () => {
  it('sets bit 15 on responses (PS3.7 §E.1)', () => {
    expect(CommandField.C_ECHO_RSP).toBe(CommandField.C_ECHO_RQ | 0x8000);
  });
});
