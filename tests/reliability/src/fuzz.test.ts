import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memory } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { describe, expect, it } from 'vitest';
import { fromHex } from './fuzz/mutate.js';
import { Random } from './fuzz/random.js';
import { fuzzServer, sendStream, startFuzzServer } from './fuzz/server-fuzz.js';
import { feed, fuzzTarget, REGRESSION_FIXTURES, targets } from './fuzz/targets.js';

// A short run of `pnpm fuzz`: a fixed seed, so a failure here reproduces.
const SEED = 0x13;

describe('fuzz: decoders (PduDecoder, decodeMessage, decodeDataSet)', () => {
  for (const target of targets()) {
    it(`${target.name}: mutated inputs end in a result or a dnet error, each within 1 s`, () => {
      const heapBefore = process.memoryUsage().heapUsed;
      const result = fuzzTarget(target, new Random(SEED), {
        count: 20_000,
        untilMs: Date.now() + 1500,
      });
      expect(result.inputs).toBeGreaterThan(500);
      // Both outcomes occur: the mutations reach past the first check.
      expect(result.refused).toBeGreaterThan(0);
      expect(result.findings.map((f) => f.problem)).toEqual([]);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
    });
  }

  it('decoder regression fixtures end in a result or a dnet error', () => {
    const all = new Map(targets().map((t) => [t.name as string, t]));
    const files = readdirSync(REGRESSION_FIXTURES).filter((f) => f.endsWith('.hex'));
    for (const file of files) {
      const target = all.get(file.split('-')[0] as string);
      if (!target) continue;
      const input = fromHex(readFileSync(join(REGRESSION_FIXTURES, file), 'utf8'));
      expect(feed(target, input, new Random(SEED), 1000).problem, file).toBeUndefined();
    }
  });
});

describe('fuzz: byte streams into a running Server', () => {
  for (const make of [memory, tcp]) {
    it(`over ${make().name}: no untyped error, memory bounded, C-ECHO still answered, no handle left`, async () => {
      const before = process
        .getActiveResourcesInfo()
        .filter((r) => r !== 'Timeout' && r !== 'Immediate');
      const result = await fuzzServer(make(), new Random(SEED), {
        untilMs: Date.now() + 3000,
        parallel: 8,
      });
      expect(result.streams).toBeGreaterThan(20);
      expect(result.untypedErrors).toEqual([]);
      expect(result.echoStatus).toBe(0);
      expect(result.heapGrowth).toBeLessThan(64 * 1024 * 1024);
      // Sockets and listeners all closed once the server is (bounded wait for the last FINs).
      const handles = () =>
        process.getActiveResourcesInfo().filter((r) => r !== 'Timeout' && r !== 'Immediate');
      for (let i = 0; i < 100 && handles().length > before.length; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(handles()).toEqual(before);
      // Never a hang: the server closes every connection (its timeouts are 300-500 ms; deadline 3 s).
      expect(result.hung).toBe(0);
    });
  }

  // Regression: a peer that stalls inside an incoming message is aborted by the idle timer.
  const serverFixtures = readdirSync(REGRESSION_FIXTURES).filter((f) => f.startsWith('server-'));
  for (const file of serverFixtures) {
    it(`server regression fixture ${file}: the server closes the connection`, async () => {
      const transport = memory();
      const { server } = await startFuzzServer(transport);
      try {
        const bytes = fromHex(readFileSync(join(REGRESSION_FIXTURES, file), 'utf8'));
        expect(await sendStream(transport, server.port, [bytes], 2500)).toBe('closed');
      } finally {
        await server.close({ timeoutMs: 500 });
      }
    });
  }
});
