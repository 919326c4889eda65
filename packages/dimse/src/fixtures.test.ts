import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandField, commandName } from './command-field.js';
import { decodeCommandSet } from './command-set.js';
import { type DimseMessage, decodeMessage, encodeMessage, messageType } from './dimse-message.js';

const dir = join(import.meta.dirname, 'fixtures');

/** Reads a `.hex` fixture (hex digits, whitespace ignored). */
export function readHex(name: string): Uint8Array {
  const text = readFileSync(join(dir, name), 'utf8').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(text, 'hex'));
}

const commandFixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.hex') && !f.includes('.pdus.') && !f.includes('.dataset.'))
  .sort();

function load(name: string): { bytes: Uint8Array; message: DimseMessage } {
  const bytes = readHex(`${name}.hex`);
  return { bytes, message: decodeMessage(bytes) };
}

describe('DCMTK and Orthanc command set fixtures', () => {
  it('covers all 23 message types with bytes from real peers', () => {
    expect(commandFixtures.length).toBeGreaterThanOrEqual(40);
    const types = new Set(commandFixtures.map((f) => messageType(load(f.slice(0, -4)).message)));
    expect([...types].sort()).toEqual(Object.values(commandName).sort());
  });

  for (const file of commandFixtures) {
    const name = file.slice(0, -4);
    it(`${name}: decodes, validates and re-encodes to the same bytes`, () => {
      const { bytes, message } = load(name);
      // The readable decode beside the fixture names the same command (dcmdump's view).
      const txt = readFileSync(join(dir, `${name}.txt`), 'utf8');
      expect(txt).toMatch(/CommandField\b/);
      expect(txt).toContain(`US ${message.commandField} `);
      expect(message.otherElements).toBeUndefined();
      expect(encodeMessage(message)).toEqual(bytes);
    });
  }

  it('reads the C-STORE-RQ of storescu', () => {
    const { message } = load('storescu-c-store-rq');
    expect(message).toEqual({
      commandField: CommandField.C_STORE_RQ,
      messageId: 1,
      priority: 0,
      affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      affectedSopInstanceUid: '1.2.826.0.1.3680043.9.7433.1.1.1.1',
      hasDataSet: true,
    });
    // DCMTK writes 0001H for "a data set follows" (PS3.7 §E.1: anything but 0101H).
    expect(decodeCommandSet(readHex('storescu-c-store-rq.hex')).commandDataSetType).toBe(1);
  });

  it('reads the Move Originator fields of a C-MOVE sub-operation', () => {
    const { message } = load('dcmqrscp-move-suboperation-c-store-rq');
    expect(message).toMatchObject({
      commandField: CommandField.C_STORE_RQ,
      moveOriginatorAeTitle: 'MOVESCU',
      moveOriginatorMessageId: 1,
    });
  });

  it('reads the C-FIND-RSPs of dcmqrscp: pending with an Identifier, then success without', () => {
    const rsps = ['dcmqrscp-findscu-c-find-rsp', 'dcmqrscp-findscu-c-find-rsp-2']
      .concat('dcmqrscp-findscu-c-find-rsp-3')
      .map((n) => load(n).message);
    expect(rsps.map((m) => [(m as { status: number }).status, m.hasDataSet])).toEqual([
      [0xff00, true],
      [0xff00, true],
      [0x0000, false],
    ]);
  });

  it('reads the sub-operation counters of C-MOVE-RSP and C-GET-RSP', () => {
    expect(load('dcmqrscp-movescu-c-move-rsp').message).toMatchObject({
      status: 0xff00,
      numberOfRemainingSuboperations: 0,
      numberOfCompletedSuboperations: 1,
    });
    expect(load('dcmqrscp-getscu-c-get-rsp-2').message).toMatchObject({
      status: 0x0000,
      numberOfCompletedSuboperations: 1,
      numberOfFailedSuboperations: 0,
    });
  });

  it('reads the storage commitment N-ACTION-RQ and N-EVENT-REPORT-RQ of Orthanc (PS3.4 J.3)', () => {
    expect(load('orthanc-commitment-n-action-rq').message).toEqual({
      commandField: CommandField.N_ACTION_RQ,
      messageId: 1,
      requestedSopClassUid: '1.2.840.10008.1.20.1',
      requestedSopInstanceUid: '1.2.840.10008.1.20.1.1',
      actionTypeId: 1,
      hasDataSet: true,
    });
    expect(load('orthanc-commitment-n-event-report-rq').message).toMatchObject({
      commandField: CommandField.N_EVENT_REPORT_RQ,
      affectedSopInstanceUid: '1.2.840.10008.1.20.1.1',
      eventTypeId: 1,
      hasDataSet: true,
    });
  });

  it('reads the C-FIND-RSP FE00H (cancel) of dcmqrscp, without an Identifier', () => {
    expect(load('dcmqrscp-findscu-cancel-c-find-rsp-2').message).toMatchObject({
      status: 0xfe00,
      hasDataSet: false,
    });
  });

  it('reads the N-GET-RQ of dcmprscu (Printer SOP Instance, PS3.4 H.4.11)', () => {
    expect(load('dcmprscu-n-get-rq').message).toMatchObject({
      commandField: CommandField.N_GET_RQ,
      requestedSopClassUid: '1.2.840.10008.5.1.1.16',
      requestedSopInstanceUid: '1.2.840.10008.5.1.1.17',
      hasDataSet: false,
    });
  });

  it('reads the C-CANCEL-RQ of findscu --cancel', () => {
    expect(load('dcmqrscp-findscu-cancel-c-cancel-rq').message).toEqual({
      commandField: CommandField.C_CANCEL_RQ,
      messageIdBeingRespondedTo: 1,
      hasDataSet: false,
    });
  });
});
