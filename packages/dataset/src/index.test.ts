import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('@dnet/dataset public API', () => {
  it('has the default transfer syntax of PS3.5 §10.1', () => {
    expect(api.TransferSyntax.ImplicitVRLittleEndian).toBe('1.2.840.10008.1.2');
  });

  it('runs the example of the package documentation', () => {
    const ds = new api.DataSet();
    ds.setString('SpecificCharacterSet', 'ISO_IR 192');
    ds.setPersonName('PatientName', { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' });
    ds.setNumber('Rows', 512);
    const bytes = api.encodeDataSet(ds, api.TransferSyntax.ExplicitVRLittleEndian);
    const back = api.decodeDataSet(bytes, api.TransferSyntax.ExplicitVRLittleEndian);
    expect(back.personName('PatientName')).toEqual({
      Alphabetic: 'Yamada^Tarou',
      Ideographic: '山田^太郎',
    });
    expect(back.number('Rows')).toBe(512);
  });

  it('brands its errors for isDnetError across copies', () => {
    const e = new api.NestingTooDeepError(3);
    expect(api.isDnetError(e)).toBe(true);
    expect(e.code).toBe('DNET_DATASET_NESTING_TOO_DEEP');
    expect(api.isDnetError(new Error('x'))).toBe(false);
    const foreign = Object.assign(new Error('y'), { [Symbol.for('dnet.error')]: true, code: 'X' });
    expect(api.isDnetError(foreign)).toBe(true);
  });
});
