import { TransferSyntax } from '@dnet/dataset';
import {
  encodeElement as element,
  elementBoundaries,
  ItemTag,
  itemHeader as itemTag,
  UNDEFINED_LENGTH as UNDEFINED,
} from '@dnet/testkit/cut-data-sets';
import { memory } from '@dnet/transport';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from './client.js';
import { storage } from './contexts.js';
import { IncompleteSourceError } from './errors.js';
import { Server } from './server.js';
import { SopClass } from './sop-class.js';

const CT = SopClass.CT_IMAGE_STORAGE;
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
/** The top-level elements of a small object; the data set is their concatenation. */
interface TestObject {
  name: string;
  transferSyntaxUid: string;
  elements: Uint8Array[];
}

function objects(): TestObject[] {
  const ids = (e: boolean, n: string) => [
    element(e, 0x00080016, 'UI', CT),
    element(e, 0x00080018, 'UI', `1.2.826.0.1.3680043.9.7433.9.${n}`),
  ];
  const pixels = new Uint8Array(32).map((_, i) => i * 3);
  return [
    {
      name: 'Explicit VR LE, defined lengths',
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      elements: [
        ...ids(true, '1'),
        element(true, 0x00100020, 'LO', 'PID1'),
        element(true, 0x7fe00010, 'OW', pixels),
      ],
    },
    {
      name: 'Implicit VR LE, a sequence and an item of undefined length',
      transferSyntaxUid: TransferSyntax.ImplicitVRLittleEndian,
      elements: [
        ...ids(false, '2'),
        element(
          false,
          0x00081115,
          'SQ',
          [
            itemTag(ItemTag.ITEM, UNDEFINED),
            element(false, 0x0020000e, 'UI', '1.2.3.4'),
            itemTag(ItemTag.ITEM_END, 0),
            itemTag(ItemTag.SEQUENCE_END, 0),
          ],
          UNDEFINED,
        ),
        element(false, 0x00100020, 'LO', 'PID2'),
      ],
    },
    {
      name: 'Explicit VR LE, nested sequences of undefined length',
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      elements: [
        ...ids(true, '3'),
        element(
          true,
          0x00081115,
          'SQ',
          [
            itemTag(ItemTag.ITEM, UNDEFINED),
            element(
              true,
              0x0008114a,
              'SQ',
              [itemTag(ItemTag.ITEM, 12), element(true, 0x00081150, 'UI', '1.2')],
              UNDEFINED,
            ),
            itemTag(ItemTag.SEQUENCE_END, 0),
            itemTag(ItemTag.ITEM_END, 0),
            itemTag(ItemTag.SEQUENCE_END, 0),
          ],
          UNDEFINED,
        ),
        element(true, 0x00100020, 'LO', 'PID3'),
      ],
    },
    {
      name: 'JPEG Baseline, encapsulated Pixel Data',
      transferSyntaxUid: JPEG_BASELINE,
      elements: [
        ...ids(true, '4'),
        element(
          true,
          0x7fe00010,
          'OB',
          [
            itemTag(ItemTag.ITEM, 0),
            itemTag(ItemTag.ITEM, 8),
            new Uint8Array(8).fill(0xd8),
            itemTag(ItemTag.SEQUENCE_END, 0),
          ],
          UNDEFINED,
        ),
      ],
    },
  ];
}

describe('Client.store refuses a data set cut anywhere but at a top-level element boundary', () => {
  const transport = memory();
  let server: Server;
  /** Data set lengths the server received whole (its stream ended without error). */
  const whole: number[] = [];
  beforeAll(async () => {
    server = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: {
        store: async (instance) => {
          let n = 0;
          for await (const c of instance.dataSet) n += c.length;
          whole.push(n);
          return 0;
        },
      },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const connect = (ts: string) =>
    Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [storage(CT, [ts])],
    });

  for (const object of objects()) {
    it(`${object.name}: in memory and streamed in 16-byte chunks`, async () => {
      const bytes = new Uint8Array(Buffer.concat(object.elements));
      const boundaries = elementBoundaries(object.elements);
      let client = await connect(object.transferSyntaxUid);
      let refused = 0;
      try {
        for (const streamed of [false, true]) {
          for (let cut = 1; cut <= bytes.length; cut++) {
            if (client.association.state !== 'Sta6')
              client = await connect(object.transferSyntaxUid);
            const data = bytes.subarray(0, cut);
            const instance = {
              sopClassUid: CT,
              sopInstanceUid: `1.2.3.${cut}`,
              transferSyntaxUid: object.transferSyntaxUid,
              dataSet: streamed
                ? () =>
                    (async function* () {
                      for (let i = 0; i < data.length; i += 16) yield data.subarray(i, i + 16);
                    })()
                : data,
            };
            whole.length = 0;
            if (boundaries.has(cut)) {
              await expect(client.store(instance)).resolves.toMatchObject({ status: 0 });
              expect(whole).toEqual([cut]);
              continue;
            }
            const error = await client.store(instance).then(
              () => undefined,
              (e: unknown) => e,
            );
            expect(error, `cut at ${cut} (${streamed ? 'streamed' : 'in memory'})`).toBeInstanceOf(
              IncompleteSourceError,
            );
            expect((error as Error).message).toMatch(/SOP instance 1\.2\.3\.\d+: /);
            // Nothing reached the handler whole: in memory nothing was sent at all.
            expect(whole).toEqual([]);
            if (!streamed) expect(client.association.state).toBe('Sta6');
            refused++;
          }
        }
      } finally {
        if (client.association.state === 'Sta6') await client.release();
      }
      expect(refused).toBe(2 * (bytes.length - boundaries.size));
    });
  }

  it('a random cut in random chunks: stored exactly when the cut is a top-level boundary (property)', async () => {
    const all = objects().map((o) => {
      const bytes = new Uint8Array(Buffer.concat(o.elements));
      return { ...o, bytes, boundaries: elementBoundaries(o.elements) };
    });
    const clients = new Map<string, Client>();
    const clientFor = async (ts: string) => {
      let c = clients.get(ts);
      if (c?.association.state !== 'Sta6') {
        c = await connect(ts);
        clients.set(ts, c);
      }
      return c;
    };
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: all.length - 1 }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.integer({ min: 1, max: 64 }),
          async (which, at, chunk) => {
            const o = all[which]!;
            const cut = Math.max(1, Math.round(at * o.bytes.length));
            const data = o.bytes.subarray(0, cut);
            const client = await clientFor(o.transferSyntaxUid);
            const stored = await client
              .store({
                sopClassUid: CT,
                sopInstanceUid: `1.2.4.${n++}`,
                transferSyntaxUid: o.transferSyntaxUid,
                dataSet: () =>
                  (async function* () {
                    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
                  })(),
              })
              .then(
                () => true,
                (e: unknown) => {
                  if (!(e instanceof IncompleteSourceError)) throw e;
                  return false;
                },
              );
            return stored === o.boundaries.has(cut);
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      for (const c of clients.values()) if (c.association.state === 'Sta6') await c.release();
    }
  });
});
