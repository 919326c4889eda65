/**
 * Every state x event pair of PS3.8 Table 9-10, driven live: our
 * Association is brought into each state by a scripted fake peer speaking
 * raw PDUs over the in-memory transport, then each event is injected (a PDU
 * from the peer, a local primitive, the transport closing, ARTIM expiring, an
 * invalid PDU) and the action taken is compared with the table.
 */
import { CommandField, encodeMessage } from '@dnet/dimse';
import {
  type AAssociateAc,
  type AAssociateRq,
  encodePdu,
  type Pdu,
  PduDecoder,
  PduType,
} from '@dnet/pdu';
import { type Connection, memory, type Transport } from '@dnet/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { Association } from './association.js';
import type { TransitionRecord } from './diagnostics.js';
import { DnetError } from './errors.js';
import { buildAssociateRq } from './negotiation.js';
import { type Event, events, type State, states } from './state-machine.js';
import { table9_10 } from './table-9-10.test-support.js';

const VERIFICATION = '1.2.840.10008.1.1';
const IMPLICIT = '1.2.840.10008.1.2';

const RQ: AAssociateRq = buildAssociateRq({
  callingAeTitle: 'PEER',
  calledAeTitle: 'DNET',
  contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
});
const AC: AAssociateAc = {
  type: PduType.A_ASSOCIATE_AC,
  protocolVersion: 1,
  calledAeTitle: 'DNET',
  callingAeTitle: 'PEER',
  applicationContextName: RQ.applicationContextName,
  presentationContexts: [{ id: 1, result: 0, transferSyntax: IMPLICIT }],
  userInformation: {
    maxLength: 16384,
    implementationClassUid: '1.2.3.4',
    roleSelections: [],
    extendedNegotiations: [],
    commonExtendedNegotiations: [],
    unknownItems: [],
  },
};
const ECHO = encodeMessage({
  commandField: CommandField.C_ECHO_RQ,
  messageId: 7,
  affectedSopClassUid: VERIFICATION,
  hasDataSet: false,
});

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The scripted fake peer: sends raw PDUs, records what it receives. */
class Peer {
  readonly received: Pdu[] = [];
  readonly connection: Connection;
  constructor(connection: Connection) {
    this.connection = connection;
    const decoder = new PduDecoder();
    void (async () => {
      try {
        for await (const chunk of connection) this.received.push(...decoder.push(chunk));
      } catch {
        // aborted
      }
    })();
  }
  send(pdu: Pdu): void {
    this.connection.write(encodePdu(pdu));
  }
  sendRaw(bytes: Uint8Array): void {
    this.connection.write(bytes);
  }
  async next(type: number): Promise<Pdu> {
    await until(() => this.received.some((p) => p.type === type), `PDU type ${type}`);
    return this.received.find((p) => p.type === type)!;
  }
}

interface Rig {
  subject: Association;
  peer?: Peer;
  transitions: TransitionRecord[];
  transport: Transport;
  host: string;
  port: number;
  /** Sta4 only: finish or fail the pending connect. */
  connect?: { resolve: () => void; reject: () => void };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function options(artimMs: number) {
  return {
    timeouts: { artimMs, acseMs: 0, idleMs: 0, dimseMs: 0, connectMs: 0 },
    manualRelease: true,
  };
}

function track(subject: Association): TransitionRecord[] {
  const list: TransitionRecord[] = [];
  subject.on('transition', (t) => list.push(t));
  cleanups.push(() => {
    subject.abort();
    subject.removeAllListeners();
  });
  return list;
}

async function acceptorRig(artimMs: number): Promise<Rig> {
  const transport = memory({ closeTimeoutMs: 200 });
  let subject: Association | undefined;
  const listener = await transport.listen({ port: 0 }, (c) => {
    subject = Association.acceptor(c, options(artimMs));
  });
  cleanups.push(() => listener.close());
  const peer = new Peer(await transport.connect({ host: listener.host, port: listener.port }));
  cleanups.push(() => peer.connection.abort());
  await until(() => subject !== undefined, 'the acceptor');
  return {
    subject: subject!,
    peer,
    transitions: track(subject!),
    transport,
    host: listener.host,
    port: listener.port,
  };
}

async function requestorRig(artimMs: number): Promise<Rig> {
  const transport = memory({ closeTimeoutMs: 200 });
  let peer: Peer | undefined;
  const listener = await transport.listen({ port: 0 }, (c) => {
    peer = new Peer(c);
    cleanups.push(() => c.abort());
  });
  cleanups.push(() => listener.close());
  const subject = Association.requestor(options(artimMs));
  const transitions = track(subject);
  subject
    .associate({ transport, host: listener.host, port: listener.port, proposal: RQ })
    .catch(() => {});
  await until(() => peer !== undefined, 'the connection');
  await peer!.next(PduType.A_ASSOCIATE_RQ);
  return { subject, peer: peer!, transitions, transport, host: listener.host, port: listener.port };
}

async function reach(rig: Rig, state: State): Promise<Rig> {
  await until(() => rig.subject.state === state, `${state} (now ${rig.subject.state})`);
  return rig;
}

/** Brings a fresh subject into `state`. */
async function setup(state: State, artimMs: number): Promise<Rig> {
  switch (state) {
    case 'Sta1': {
      const transport = memory();
      const subject = Association.requestor(options(artimMs));
      return { subject, transitions: track(subject), transport, host: 'x', port: 1 };
    }
    case 'Sta2':
      return reach(await acceptorRig(artimMs), 'Sta2');
    case 'Sta3': {
      const rig = await acceptorRig(artimMs);
      rig.peer!.send(RQ);
      return reach(rig, 'Sta3');
    }
    case 'Sta4': {
      const inner = memory({ closeTimeoutMs: 200 });
      let peerConn: Connection | undefined;
      const listener = await inner.listen({ port: 0 }, (c) => {
        peerConn = c;
      });
      cleanups.push(() => listener.close());
      let control!: { resolve: () => void; reject: () => void };
      const transport: Transport = {
        name: 'deferred',
        listen: inner.listen.bind(inner),
        connect: (o) =>
          new Promise<Connection>((resolve, reject) => {
            control = {
              resolve: () => {
                inner.connect(o).then(resolve, reject);
              },
              reject: () => reject(new Error('refused')),
            };
          }),
      };
      const subject = Association.requestor(options(artimMs));
      const transitions = track(subject);
      subject
        .associate({ transport, host: listener.host, port: listener.port, proposal: RQ })
        .catch(() => {});
      const rig: Rig = {
        subject,
        transitions,
        transport,
        host: listener.host,
        port: listener.port,
        connect: control,
      };
      await reach(rig, 'Sta4');
      cleanups.push(() => peerConn?.abort());
      return rig;
    }
    case 'Sta5':
      return reach(await requestorRig(artimMs), 'Sta5');
    case 'Sta6': {
      const rig = await requestorRig(artimMs);
      rig.peer!.send(AC);
      return reach(rig, 'Sta6');
    }
    case 'Sta7': {
      const rig = await setup('Sta6', artimMs);
      rig.subject.release().catch(() => {});
      await rig.peer!.next(PduType.A_RELEASE_RQ);
      return reach(rig, 'Sta7');
    }
    case 'Sta8': {
      const rig = await setup('Sta6', artimMs);
      rig.peer!.send({ type: PduType.A_RELEASE_RQ });
      return reach(rig, 'Sta8');
    }
    case 'Sta9': {
      const rig = await setup('Sta7', artimMs);
      rig.peer!.send({ type: PduType.A_RELEASE_RQ });
      return reach(rig, 'Sta9');
    }
    case 'Sta10': {
      const rig = await acceptorRig(artimMs);
      rig.peer!.send(RQ);
      await reach(rig, 'Sta3');
      rig.subject.acceptAssociation({ ...AC });
      await reach(rig, 'Sta6');
      rig.subject.release().catch(() => {});
      await rig.peer!.next(PduType.A_RELEASE_RQ);
      rig.peer!.send({ type: PduType.A_RELEASE_RQ });
      return reach(rig, 'Sta10');
    }
    case 'Sta11': {
      const rig = await setup('Sta9', artimMs);
      rig.subject.releaseResponse();
      return reach(rig, 'Sta11');
    }
    case 'Sta12': {
      const rig = await setup('Sta10', artimMs);
      rig.peer!.send({ type: PduType.A_RELEASE_RP });
      return reach(rig, 'Sta12');
    }
    case 'Sta13': {
      const rig = await setup('Sta6', artimMs);
      rig.subject.abort();
      await rig.peer!.next(PduType.A_ABORT);
      rig.peer!.received.length = 0;
      return reach(rig, 'Sta13');
    }
  }
}

/** Injects `event`; returns false when it cannot occur in this rig (no connection, no ARTIM). */
function inject(rig: Rig, event: Event): boolean | Promise<unknown> {
  const { subject, peer } = rig;
  const needsPeer = ['Evt3', 'Evt4', 'Evt6', 'Evt10', 'Evt12', 'Evt13', 'Evt16', 'Evt19'];
  if (needsPeer.includes(event) && !peer) return false;
  switch (event) {
    case 'Evt1':
      return subject.associate({
        transport: rig.transport,
        host: rig.host,
        port: rig.port,
        proposal: RQ,
      });
    case 'Evt2':
      if (!rig.connect) return false;
      rig.connect.resolve();
      return true;
    case 'Evt3':
      peer!.send(AC);
      return true;
    case 'Evt4':
      peer!.send({ type: PduType.A_ASSOCIATE_RJ, result: 1, source: 1, reason: 1 });
      return true;
    case 'Evt5':
      return false; // only Sta1, by Association.acceptor (tested below)
    case 'Evt6':
      peer!.send(RQ);
      return true;
    case 'Evt7':
      subject.acceptAssociation({ ...AC });
      return true;
    case 'Evt8':
      subject.rejectAssociation({ result: 1, source: 1, reason: 1 });
      return true;
    case 'Evt9':
      return subject.sendPData([{ contextId: 1, command: true, last: true, data: ECHO }]);
    case 'Evt10':
      peer!.send({
        type: PduType.P_DATA_TF,
        pdvs: [{ contextId: 1, command: true, last: true, data: ECHO }],
      });
      return true;
    case 'Evt11':
      return subject.release();
    case 'Evt12':
      peer!.send({ type: PduType.A_RELEASE_RQ });
      return true;
    case 'Evt13':
      peer!.send({ type: PduType.A_RELEASE_RP });
      return true;
    case 'Evt14':
      subject.releaseResponse();
      return true;
    case 'Evt15':
      subject.abort();
      return true;
    case 'Evt16':
      peer!.send({ type: PduType.A_ABORT, source: 0, reason: 0 });
      return true;
    case 'Evt17':
      if (rig.connect) rig.connect.reject();
      else if (peer) peer.connection.abort();
      else return false;
      return true;
    case 'Evt18':
      return true; // ARTIM runs with a short duration in this rig
    case 'Evt19':
      peer!.sendRaw(new Uint8Array([0x09, 0, 0, 0, 0, 0])); // PDU type 09H does not exist
      return true;
  }
}

const localEvents: readonly Event[] = ['Evt1', 'Evt7', 'Evt8', 'Evt9', 'Evt11', 'Evt14', 'Evt15'];

describe('PS3.8 Table 9-10 against a scripted fake peer', () => {
  states.forEach((state, column) => {
    describe(state, () => {
      for (const event of events) {
        const cell = table9_10[event].split(' ')[column]!;
        const artimRuns = state === 'Sta2' || state === 'Sta13';
        if (event === 'Evt18' && !artimRuns) continue; // ARTIM runs only in Sta2 and Sta13
        if (event === 'Evt5') continue;
        if (event === 'Evt2' && state !== 'Sta4') continue; // connect confirmation only in Sta4
        if (
          (state === 'Sta1' || state === 'Sta4') &&
          !localEvents.includes(event) &&
          event !== 'Evt17' &&
          event !== 'Evt2'
        )
          continue; // no transport connection: no PDU can arrive
        if (state === 'Sta1' && event === 'Evt17') continue;
        it(`${event} -> ${cell}`, async () => {
          const rig = await setup(state, event === 'Evt18' ? 40 : 5000);
          const before = rig.transitions.length;
          let outcome: unknown;
          try {
            const r = inject(rig, event);
            if (r instanceof Promise) {
              r.catch(() => {});
              outcome = r;
            }
          } catch (error) {
            outcome = error;
          }
          if (cell === '-') {
            // A blank cell: the local primitive is refused with a typed error, the state stays.
            if (outcome instanceof Promise)
              outcome = await outcome.then(
                () => undefined,
                (e: unknown) => e,
              );
            if (event !== 'Evt15') expect(outcome).toBeInstanceOf(DnetError);
            expect(rig.transitions.slice(before).filter((t) => t.event === event)).toEqual([]);
            return;
          }
          await until(
            () => rig.transitions.slice(before).some((t) => t.event === event),
            `${event} in ${state}`,
          );
          const record = rig.transitions.slice(before).find((t) => t.event === event)!;
          expect(record.from).toBe(state);
          expect(record.action).toBe(cell);
          if (cell === 'AA-8' || cell === 'AA-7') {
            const abort = await rig.peer!.next(PduType.A_ABORT);
            expect(abort).toMatchObject({ source: 2 });
          }
          if (cell === 'AA-1') {
            const abort = await rig.peer!.next(PduType.A_ABORT);
            expect(abort).toMatchObject({ source: event === 'Evt15' ? 0 : 2 });
          }
          if (cell === 'AA-6') {
            await new Promise((r) => setTimeout(r, 5));
            expect(rig.peer!.received.filter((p) => p.type === PduType.A_ABORT)).toEqual([]);
          }
        });
      }
    });
  });

  it('Sta1 x Evt5 -> AE-5 (a listener hands over a connection)', async () => {
    const transport = memory();
    let transitions: TransitionRecord[] = [];
    const listener = await transport.listen({ port: 0 }, (c) => {
      const a = Association.acceptor(c, options(5000));
      transitions = track(a);
    });
    cleanups.push(() => listener.close());
    const conn = await transport.connect({ host: listener.host, port: listener.port });
    cleanups.push(() => conn.abort());
    await until(() => transitions !== undefined, 'acceptor');
    // AE-5 ran inside acceptor(); the next event (A-ASSOCIATE-RQ) starts from Sta2.
    conn.write(encodePdu(RQ));
    await until(() => transitions.length > 0, 'AE-6');
    expect(transitions[0]).toMatchObject({
      from: 'Sta2',
      event: 'Evt6',
      action: 'AE-6',
      to: 'Sta3',
    });
  });
});

describe('a misbehaving peer is aborted, never trusted', () => {
  const cases: [string, (peer: Peer) => void, number][] = [
    [
      'a PDV on a presentation context that was not accepted',
      (p) =>
        p.send({
          type: PduType.P_DATA_TF,
          pdvs: [{ contextId: 3, command: true, last: true, data: ECHO }],
        }),
      0,
    ],
    [
      'a data set fragment without its command',
      (p) =>
        p.send({
          type: PduType.P_DATA_TF,
          pdvs: [{ contextId: 1, command: false, last: true, data: new Uint8Array(4) }],
        }),
      0,
    ],
    [
      'a command set that does not decode',
      (p) =>
        p.send({
          type: PduType.P_DATA_TF,
          pdvs: [{ contextId: 1, command: true, last: true, data: new Uint8Array([1, 2, 3]) }],
        }),
      0,
    ],
    [
      'a P-DATA-TF longer than the maximum length we announced',
      (p) => p.sendRaw(new Uint8Array([0x04, 0, 0x7f, 0xff, 0xff, 0xff])),
      6,
    ],
  ];
  for (const [name, misbehave, reason] of cases) {
    it(`aborts on ${name}`, async () => {
      const rig = await setup('Sta6', 5000);
      const aborted = new Promise<unknown>((resolve) => rig.subject.once('aborted', resolve));
      misbehave(rig.peer!);
      const abort = await rig.peer!.next(PduType.A_ABORT);
      expect(abort).toMatchObject({ source: 2, reason });
      rig.peer!.connection.abort();
      expect(await aborted).toBeInstanceOf(DnetError);
      await rig.subject.closed;
      expect(rig.subject.state).toBe('Sta1');
    });
  }
});
