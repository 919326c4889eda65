import { describe, expect, it } from 'vitest';
import { CommandTag } from './command-element.js';
import { CommandField, commandName } from './command-field.js';
import { decodeCommandSet, encodeCommandSet } from './command-set.js';
import {
  type CEchoRq,
  type CFindRq,
  type CFindRsp,
  type CMoveRq,
  type CStoreRq,
  checkResponse,
  type DimseMessage,
  decodeMessage,
  encodeMessage,
  isResponseMessage,
  messageType,
  type NActionRq,
  respondTo,
  validateMessage,
} from './dimse-message.js';
import {
  FieldNotAllowedError,
  InvalidFieldError,
  isDnetError,
  MissingFieldError,
  ResponseMismatchError,
  UnknownCommandError,
} from './errors.js';
import { sampleMessages } from './sample-messages.test-support.js';

function without(message: DimseMessage, key: string): DimseMessage {
  const copy = { ...message } as Record<string, unknown>;
  delete copy[key];
  return copy as unknown as DimseMessage;
}

function sample(cf: number): DimseMessage {
  const m = sampleMessages.find((s) => s.commandField === cf);
  if (!m) throw new Error(`no sample for ${cf}`);
  return m;
}

describe('the 23 DIMSE messages (PS3.7 §9.3, §10.3)', () => {
  it('has one sample per Command Field', () => {
    expect(sampleMessages).toHaveLength(23);
    expect(new Set(sampleMessages.map((m) => m.commandField)).size).toBe(23);
    expect(Object.keys(commandName)).toHaveLength(23);
  });

  for (const message of sampleMessages) {
    it(`round-trips ${messageType(message)}`, () => {
      const bytes = encodeMessage(message);
      expect(decodeMessage(bytes)).toEqual(message);
      // Same bytes again: encoding is deterministic and complete.
      expect(encodeMessage(decodeMessage(bytes))).toEqual(bytes);
      // Command Data Set Type is 0101H exactly when no data set follows (PS3.7 §E.1).
      const set = decodeCommandSet(bytes);
      expect(set.commandDataSetType === 0x0101).toBe(!message.hasDataSet);
    });
  }

  it('knows requests from responses by bit 15', () => {
    expect(isResponseMessage(sample(CommandField.C_STORE_RSP))).toBe(true);
    expect(isResponseMessage(sample(CommandField.C_CANCEL_RQ))).toBe(false);
  });
});

describe('required fields', () => {
  const cases: [number, string][] = [
    [CommandField.C_STORE_RQ, 'affectedSopInstanceUid'],
    [CommandField.C_STORE_RQ, 'affectedSopClassUid'],
    [CommandField.C_STORE_RQ, 'priority'],
    [CommandField.C_STORE_RQ, 'messageId'],
    [CommandField.C_STORE_RSP, 'status'],
    [CommandField.C_STORE_RSP, 'messageIdBeingRespondedTo'],
    [CommandField.C_FIND_RQ, 'priority'],
    [CommandField.C_MOVE_RQ, 'moveDestination'],
    [CommandField.C_GET_RSP, 'numberOfRemainingSuboperations'],
    [CommandField.C_GET_RSP, 'numberOfWarningSuboperations'],
    [CommandField.C_CANCEL_RQ, 'messageIdBeingRespondedTo'],
    [CommandField.N_EVENT_REPORT_RQ, 'eventTypeId'],
    [CommandField.N_EVENT_REPORT_RQ, 'affectedSopInstanceUid'],
    [CommandField.N_GET_RQ, 'requestedSopClassUid'],
    [CommandField.N_SET_RQ, 'requestedSopInstanceUid'],
    [CommandField.N_ACTION_RQ, 'actionTypeId'],
    [CommandField.N_CREATE_RQ, 'affectedSopClassUid'],
    [CommandField.N_DELETE_RQ, 'requestedSopInstanceUid'],
  ];
  for (const [cf, field] of cases) {
    const type = commandName[cf as CommandField];
    it(`${type} without ${field} fails on encode and on decode`, () => {
      const broken = without(sample(cf), field);
      const onEncode = () => encodeMessage(broken);
      expect(onEncode).toThrow(MissingFieldError);
      try {
        onEncode();
      } catch (e) {
        expect(isDnetError(e)).toBe(true);
        expect(e).toMatchObject({ code: 'DNET_DIMSE_MISSING_FIELD', messageType: type, field });
      }
      // Build the bytes without validation, as a faulty peer would.
      const { hasDataSet, ...fields } = broken as unknown as Record<string, unknown>;
      const bytes = encodeCommandSet({ ...fields, commandDataSetType: hasDataSet ? 0 : 0x0101 });
      expect(() => decodeMessage(bytes)).toThrow(MissingFieldError);
    });
  }

  it('treats an empty UID as missing', () => {
    const m = { ...sample(CommandField.C_STORE_RQ), affectedSopInstanceUid: '' } as DimseMessage;
    expect(() => encodeMessage(m)).toThrow(MissingFieldError);
  });

  it('requires Command Field and Command Data Set Type in any command set', () => {
    expect(() => decodeMessage(encodeCommandSet({ messageId: 1 }))).toThrow(MissingFieldError);
    expect(() => decodeMessage(encodeCommandSet({ commandField: 0x0030, messageId: 1 }))).toThrow(
      /commandDataSetType/,
    );
  });
});

describe('conditional fields', () => {
  it('sub-operation counters are optional in a final C-MOVE-RSP', () => {
    const m: DimseMessage = {
      commandField: CommandField.C_MOVE_RSP,
      messageIdBeingRespondedTo: 3,
      status: 0x0000,
      hasDataSet: false,
    };
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('refuses status-related fields with a success status on encode', () => {
    const m = { ...sample(CommandField.C_ECHO_RSP), errorComment: 'fine' } as DimseMessage;
    expect(() => encodeMessage(m)).toThrow(FieldNotAllowedError);
    const n = { ...sample(CommandField.N_SET_RSP), attributeIdentifierList: [1] } as DimseMessage;
    expect(() => encodeMessage(n)).toThrow(FieldNotAllowedError);
  });

  it('keeps a field the type does not define as a raw element when decoding', () => {
    // A peer puts Priority into a C-ECHO-RQ and an Error Comment with a success status.
    const bytes = encodeCommandSet({
      commandField: CommandField.C_ECHO_RQ,
      messageId: 5,
      affectedSopClassUid: '1.2.840.10008.1.1',
      priority: 0,
      commandDataSetType: 0x0101,
    });
    const m = decodeMessage(bytes);
    expect(m).not.toHaveProperty('priority');
    expect(m.otherElements).toEqual([{ tag: CommandTag.Priority, value: new Uint8Array(2) }]);
    expect(encodeMessage(m)).toEqual(bytes);

    const rsp = encodeCommandSet({
      commandField: CommandField.C_STORE_RSP,
      messageIdBeingRespondedTo: 5,
      status: 0,
      errorComment: 'OK',
      commandDataSetType: 0x0101,
    });
    const decoded = decodeMessage(rsp);
    expect(decoded).not.toHaveProperty('errorComment');
    expect(encodeMessage(decoded)).toEqual(rsp);
  });

  it('refuses a field of another message type on encode', () => {
    const m = { ...sample(CommandField.C_ECHO_RQ), moveDestination: 'X' } as DimseMessage;
    expect(() => encodeMessage(m)).toThrow(FieldNotAllowedError);
  });

  it('C-FIND-RSP: an Identifier with every pending status, none with success', () => {
    const pending = sample(CommandField.C_FIND_RSP) as CFindRsp;
    expect(() => encodeMessage({ ...pending, hasDataSet: false })).toThrow(MissingFieldError);
    expect(() => encodeMessage({ ...pending, status: 0, hasDataSet: true })).toThrow(
      FieldNotAllowedError,
    );
    expect(() => encodeMessage({ ...pending, status: 0xfe00, hasDataSet: true })).toThrow(
      FieldNotAllowedError,
    );
    // A failure may carry one.
    expect(() => encodeMessage({ ...pending, status: 0xa900, hasDataSet: true })).not.toThrow();
    const bytes = encodeCommandSet({
      commandField: CommandField.C_FIND_RSP,
      messageIdBeingRespondedTo: 1,
      status: 0xff00,
      commandDataSetType: 0x0101,
    });
    expect(() => decodeMessage(bytes)).toThrow(MissingFieldError);
  });

  it('C-MOVE-RSP and C-GET-RSP: no Identifier while pending or on success; tolerated when received', () => {
    const pending = { ...sample(CommandField.C_GET_RSP), hasDataSet: true } as DimseMessage;
    expect(() => encodeMessage(pending)).toThrow(FieldNotAllowedError);
    const success: DimseMessage = {
      commandField: CommandField.C_MOVE_RSP,
      messageIdBeingRespondedTo: 1,
      status: 0,
      hasDataSet: true,
    };
    expect(() => encodeMessage(success)).toThrow(FieldNotAllowedError);
    // A warning or failure carries the Failed SOP Instance UID List.
    expect(() => encodeMessage({ ...success, status: 0xb000 })).not.toThrow();
    // Received from a peer that sends one anyway: accepted (DCMTK tolerates it too).
    const bytes = encodeCommandSet({
      commandField: CommandField.C_MOVE_RSP,
      messageIdBeingRespondedTo: 1,
      status: 0xff00,
      numberOfRemainingSuboperations: 1,
      numberOfCompletedSuboperations: 0,
      numberOfFailedSuboperations: 0,
      numberOfWarningSuboperations: 0,
      commandDataSetType: 1,
    });
    expect(decodeMessage(bytes).hasDataSet).toBe(true);
  });

  it('checks data set presence by type (Command Data Set Type, PS3.7 §E.1)', () => {
    expect(() => encodeMessage({ ...sample(CommandField.C_STORE_RQ), hasDataSet: false })).toThrow(
      MissingFieldError,
    );
    expect(() => encodeMessage({ ...sample(CommandField.C_ECHO_RQ), hasDataSet: true })).toThrow(
      FieldNotAllowedError,
    );
    expect(() => encodeMessage({ ...sample(CommandField.N_SET_RQ), hasDataSet: false })).toThrow(
      MissingFieldError,
    );
    const echoWithData = encodeCommandSet({
      commandField: CommandField.C_ECHO_RQ,
      messageId: 1,
      affectedSopClassUid: '1.2.840.10008.1.1',
      commandDataSetType: 0x0001,
    });
    expect(() => decodeMessage(echoWithData)).toThrow(FieldNotAllowedError);
  });

  it('accepts any Command Data Set Type other than 0101H as "present"', () => {
    for (const v of [0x0000, 0x0001, 0x0102, 0xfefe]) {
      const bytes = encodeCommandSet({
        commandField: CommandField.C_FIND_RQ,
        messageId: 1,
        priority: 0,
        affectedSopClassUid: '1.2.840.10008.5.1.4.1.2.2.1',
        commandDataSetType: v,
      });
      expect(decodeMessage(bytes).hasDataSet).toBe(true);
    }
  });
});

describe('values', () => {
  it('refuses an unknown Priority', () => {
    expect(() =>
      encodeMessage({ ...sample(CommandField.C_FIND_RQ), priority: 3 } as DimseMessage),
    ).toThrow(InvalidFieldError);
  });

  it('refuses an unknown Command Field', () => {
    expect(() => validateMessage({ commandField: 0x0040 } as unknown as DimseMessage)).toThrow(
      UnknownCommandError,
    );
    const bytes = encodeCommandSet({ commandField: 0x0040, commandDataSetType: 0x0101 });
    expect(() => decodeMessage(bytes)).toThrow(UnknownCommandError);
  });

  it('refuses a Message ID outside US and a bad UID or AE title', () => {
    expect(() =>
      encodeMessage({ ...sample(CommandField.C_ECHO_RQ), messageId: 65536 } as DimseMessage),
    ).toThrow(InvalidFieldError);
    expect(() =>
      encodeMessage({
        ...sample(CommandField.C_ECHO_RQ),
        affectedSopClassUid: '1.2.x',
      } as DimseMessage),
    ).toThrow(InvalidFieldError);
    expect(() =>
      encodeMessage({
        ...sample(CommandField.C_MOVE_RQ),
        moveDestination: 'SEVENTEEN_CHARS_X',
      } as DimseMessage),
    ).toThrow(/at most 16/);
    expect(() =>
      encodeMessage({ ...sample(CommandField.C_MOVE_RQ), moveDestination: '   ' } as DimseMessage),
    ).toThrow(/spaces/);
  });
});

describe('respondTo', () => {
  it('builds the C-STORE-RSP to a C-STORE-RQ with the request IDs and UIDs', () => {
    const rq = sample(CommandField.C_STORE_RQ) as CStoreRq;
    const rsp = respondTo(rq, { status: 0 });
    expect(rsp).toEqual({
      commandField: CommandField.C_STORE_RSP,
      messageIdBeingRespondedTo: rq.messageId,
      affectedSopClassUid: rq.affectedSopClassUid,
      affectedSopInstanceUid: rq.affectedSopInstanceUid,
      status: 0,
      hasDataSet: false,
    });
    expect(decodeMessage(encodeMessage(rsp))).toEqual(rsp);
  });

  it('maps Requested UIDs of N-service requests to Affected UIDs and echoes the type IDs', () => {
    const rq = sample(CommandField.N_ACTION_RQ) as NActionRq;
    expect(respondTo(rq, { status: 0x0000 })).toMatchObject({
      commandField: CommandField.N_ACTION_RSP,
      affectedSopClassUid: rq.requestedSopClassUid,
      affectedSopInstanceUid: rq.requestedSopInstanceUid,
      actionTypeId: 1,
    });
  });

  it('builds responses that are checked, once, when they are encoded', () => {
    const find = sample(CommandField.C_FIND_RQ) as CFindRq;
    expect(respondTo(find, { status: 0xff00, hasDataSet: true }).hasDataSet).toBe(true);
    const noIdentifier = respondTo(find, { status: 0xff00 });
    expect(() => validateMessage(noIdentifier)).toThrow(MissingFieldError);
    expect(() => encodeMessage(noIdentifier)).toThrow(MissingFieldError);
    const move = sample(CommandField.C_MOVE_RQ) as CMoveRq;
    expect(() => encodeMessage(respondTo(move, { status: 0xff00 }))).toThrow(
      /sub-operation counters/,
    );
  });
});

describe('Move Originator fields', () => {
  it('go together in a C-STORE-RQ (PS3.7 §9.3.1.1)', () => {
    const rq = sample(CommandField.C_STORE_RQ) as CStoreRq;
    const { moveOriginatorMessageId: _, ...titleOnly } = rq;
    expect(() => encodeMessage(titleOnly)).toThrow(/moveOriginatorMessageId/);
    const { moveOriginatorAeTitle: __, ...idOnly } = rq;
    expect(() => encodeMessage(idOnly)).toThrow(MissingFieldError);
    const { moveOriginatorAeTitle: ___, moveOriginatorMessageId: ____, ...neither } = rq;
    expect(decodeMessage(encodeMessage(neither))).toEqual(neither);
  });
});

describe('checkResponse', () => {
  it('accepts the response built for the request, and DCMTK-style responses without U fields', () => {
    const rq = sample(CommandField.N_ACTION_RQ) as NActionRq;
    expect(() => checkResponse(rq, respondTo(rq, { status: 0 }))).not.toThrow();
    expect(() =>
      checkResponse(rq, {
        commandField: CommandField.N_ACTION_RSP,
        messageIdBeingRespondedTo: rq.messageId,
        status: 0,
        hasDataSet: false,
      }),
    ).not.toThrow();
  });

  it('refuses a response to another request, message or instance', () => {
    const rq = sample(CommandField.C_STORE_RQ) as CStoreRq;
    const rsp = respondTo(rq, { status: 0 });
    expect(() => checkResponse(rq, { ...rsp, messageIdBeingRespondedTo: 99 })).toThrow(
      ResponseMismatchError,
    );
    expect(() => checkResponse(rq, { ...rsp, affectedSopInstanceUid: '1.2.3' })).toThrow(
      /affectedSopInstanceUid/,
    );
    const echoRsp = respondTo(sample(CommandField.C_ECHO_RQ) as CEchoRq, { status: 0 });
    expect(() => checkResponse(rq, echoRsp)).toThrow(/does not answer/);
  });
});
