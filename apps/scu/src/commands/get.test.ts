import { lookupUid } from '@dnet/dataset';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { MAX_STORAGE_CONTEXTS, wantedStorageClasses } from './get.js';

const keywords = (uids: readonly string[]) => uids.map((u) => lookupUid(u)?.keyword);

describe('dnet-scu get: the Storage classes proposed', () => {
  it('proposes every current clinical class within the 127 contexts left (PS3.8 §9.3.2.2)', () => {
    const wanted = wantedStorageClasses();
    expect(wanted.length).toBeLessThanOrEqual(MAX_STORAGE_CONTEXTS);
    expect(new Set(wanted).size).toBe(wanted.length);
    const names = keywords(wanted);
    for (const k of [
      'CTImageStorage',
      'MRImageStorage',
      'DigitalXRayImageStorageForPresentation',
      'DigitalMammographyXRayImageStorageForPresentation',
      'BreastTomosynthesisImageStorage',
      'ComprehensiveSRStorage',
      'Comprehensive3DSRStorage',
      'KeyObjectSelectionDocumentStorage',
      'TwelveLeadECGWaveformStorage',
      'EncapsulatedPDFStorage',
      'SegmentationStorage',
      'GrayscaleSoftcopyPresentationStateStorage',
      'RTPlanStorage',
      'VLWholeSlideMicroscopyImageStorage',
    ])
      expect(names).toContain(k);
    for (const n of names) {
      expect(n).not.toMatch(/^DICOS|^EddyCurrent|ForProcessing$|^HangingProtocol/);
      expect(n).not.toMatch(/Retired$/);
    }
  });

  it('takes --storage-class keywords and UIDs, once each', () => {
    expect(
      wantedStorageClasses(['CTImageStorage', '1.2.840.10008.5.1.4.1.1.4', 'CTImageStorage']),
    ).toEqual(['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.4']);
  });

  it('refuses an unknown keyword and more classes than fit', () => {
    expect(() => wantedStorageClasses(['NoSuchStorage'])).toThrow(UsageError);
    const many = Array.from({ length: 128 }, (_, i) => `1.2.3.${i}`);
    expect(() => wantedStorageClasses(many)).toThrow(/at most 127/);
  });
});
