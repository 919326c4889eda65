/**
 * Hostile and fragmented input: a whole association with every chunk cut to
 * one byte, and random bytes (fast-check) thrown at an established
 * association, which must end cleanly (A-ABORT or a clean close), never hang
 * or leak a rejection.
 */
import { CommandField, respondTo } from '@dnet/dimse';
import { encodePdu, PduType } from '@dnet/pdu';
import { type Connection, memory } from '@dnet/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Association } from './association.js';
import { buildAssociateRq } from './negotiation.js';

const VERIFICATION = '1.2.840.10008.1.1';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const IMPLICIT = '1.2.840.10008.1.2';
const policy = {
  contexts: [
    { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] },
    { abstractSyntax: CT, transferSyntaxes: [IMPLICIT] },
  ],
};

describe('fragmented and hostile input', () => {
  it('runs echo, store and release with every chunk cut to one byte', async () => {
    const transport = memory({ maxChunkSize: 1 });
    let acceptor!: Association;
    const listener = await transport.listen({ port: 0 }, (c) => {
      Association.accept(c, { policy }).then((a) => {
        acceptor = a;
        a.handle('C-STORE', async (rq) => {
          const data = await rq.dataSet!.bytes();
          await rq.respond(respondTo(rq.message, { status: data.length === 3000 ? 0 : 0xc000 }));
        });
      });
    });
    try {
      const a = await Association.request({
        transport,
        host: listener.host,
        port: listener.port,
        proposal: {
          callingAeTitle: 'SCU',
          calledAeTitle: 'SCP',
          maxPduLength: 1024,
          contexts: [
            { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] },
            { abstractSyntax: CT, transferSyntaxes: [IMPLICIT] },
          ],
        },
      });
      expect((await a.cEcho()).message.status).toBe(0);
      const rsp = await a.cStore(
        {
          commandField: CommandField.C_STORE_RQ,
          affectedSopClassUid: CT,
          affectedSopInstanceUid: '1.2',
          priority: 0,
          hasDataSet: true,
        },
        new Uint8Array(3000).fill(7),
      );
      expect(rsp.message.status).toBe(0);
      await a.release();
      await acceptor.closed;
      expect(acceptor.state).toBe('Sta1');
    } finally {
      await listener.close();
    }
  });

  it('survives random bytes after establishment: the association ends, nothing hangs', async () => {
    const rq = buildAssociateRq({
      callingAeTitle: 'FUZZ',
      calledAeTitle: 'SCP',
      contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.boolean(),
        async (junk, asPData) => {
          const transport = memory({ closeTimeoutMs: 100 });
          let subject: Association | undefined;
          const listener = await transport.listen({ port: 0 }, (c: Connection) => {
            subject = Association.acceptor(c, { timeouts: { artimMs: 100 } });
            subject.once('requested', () => subject!.acceptAssociation(acceptFor()));
          });
          const acceptFor = () => ({
            type: PduType.A_ASSOCIATE_AC as typeof PduType.A_ASSOCIATE_AC,
            protocolVersion: 1,
            calledAeTitle: 'SCP',
            callingAeTitle: 'FUZZ',
            applicationContextName: rq.applicationContextName,
            presentationContexts: [{ id: 1, result: 0, transferSyntax: IMPLICIT }],
            userInformation: {
              maxLength: 16384,
              implementationClassUid: '1.2.3',
              roleSelections: [],
              extendedNegotiations: [],
              commonExtendedNegotiations: [],
              unknownItems: [],
            },
          });
          const peer = await transport.connect({ host: listener.host, port: listener.port });
          peer.write(encodePdu(rq));
          // Drain what the subject sends, so its writes never block.
          void (async () => {
            try {
              for await (const _ of peer) {
                // discard
              }
            } catch {
              // aborted
            }
          })();
          for (let i = 0; i < 200 && subject?.state !== 'Sta6'; i++)
            await new Promise((r) => setTimeout(r, 1));
          expect(subject?.state).toBe('Sta6');
          const bytes = asPData
            ? encodePdu({
                type: PduType.P_DATA_TF,
                pdvs: [{ contextId: 1, command: true, last: true, data: junk }],
              })
            : junk;
          peer.write(bytes);
          await peer.close();
          await subject!.closed;
          expect(subject!.state).toBe('Sta1');
          await listener.close();
        },
      ),
      { numRuns: 40 },
    );
  });
});
