import { describe, expect, it } from 'vitest';
import { isStorageSopClass, storageSopClasses } from './sop-class.js';

describe('storageSopClasses (PS3.4 Annex B, Table B.5-1)', () => {
  it('takes the Storage SOP classes of the registry, newer ones included', () => {
    const all = storageSopClasses();
    for (const uid of [
      '1.2.840.10008.5.1.4.1.1.2', // CT Image Storage
      '1.2.840.10008.5.1.4.1.1.104.3', // Encapsulated STL Storage (2018)
      '1.2.840.10008.5.1.4.1.1.77.1.7', // Dermoscopic Photography Image Storage (2020)
      '1.2.840.10008.5.1.4.1.1.481.22', // RT Treatment Preparation Storage (2021)
      '1.2.840.10008.5.1.4.1.1.88.35', // Extensible SR Storage
      '1.2.840.10008.5.1.4.1.1.13.1.4', // Breast Projection X-Ray Image Storage - For Presentation
      '1.2.840.10008.5.1.4.1.1.1.1.1', // Digital X-Ray Image Storage - For Processing
      '1.2.840.10008.5.1.4.1.1.3', // Ultrasound Multi-frame Image Storage (Retired)
      '1.2.840.10008.5.1.4.1.1.9.1', // Waveform Storage - Trial (Retired)
    ]) {
      expect(all, uid).toContain(uid);
      expect(isStorageSopClass(uid), uid).toBe(true);
    }
  });

  it('leaves out what is not stored with C-STORE', () => {
    for (const uid of [
      '1.2.840.10008.1.20.1', // Storage Commitment Push Model
      '1.2.840.10008.1.3.10', // Media Storage Directory Storage (PS3.10 DICOMDIR)
      '1.2.840.10008.5.1.4.1.1.200.4', // Protocol Approval Information Model - FIND
      '1.2.840.10008.5.1.4.1.2.2.1', // Study Root Query/Retrieve - FIND
      '1.2.840.10008.1.2.1', // a transfer syntax
    ]) {
      expect(storageSopClasses(), uid).not.toContain(uid);
      expect(isStorageSopClass(uid), uid).toBe(false);
    }
  });
});
