// The split-at-every-offset tests of the large fixtures (the A-ASSOCIATE-RQs of
// storescu and getscu), in a file of their own so that they run beside
// fixtures.test.ts.
import { describe } from 'vitest';
import {
  checkSplits,
  fixtureNames,
  LARGE_FIXTURE,
  loadFixture,
} from './check-fixture.test-support.js';

describe('large fixtures split at every offset', () => {
  for (const name of fixtureNames()) {
    if (loadFixture(name).length > LARGE_FIXTURE) checkSplits(name);
  }
});
