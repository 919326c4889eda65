/**
 * @packageDocumentation
 * `@dnet/dimse`: PS3.7 DIMSE messages (command sets, the 23 message types,
 * status codes) and P-DATA fragmentation and reassembly.
 *
 * - Command sets: {@link encodeCommandSet} / {@link decodeCommandSet} for group
 *   0000 in Implicit VR Little Endian (PS3.7 §6.3.1, Annex E).
 * - Messages: {@link DimseMessage} is a union of the 23 typed messages
 *   (`CStoreRq`, `CFindRsp`, `NActionRq`...), discriminated by
 *   `commandField`. {@link encodeMessage} and {@link decodeMessage} check the
 *   required and conditional fields of PS3.7 §9.3 and §10.3.
 * - Statuses: {@link Status}, {@link describeStatus}, {@link statusCategory}.
 * - Responses: {@link respondTo} builds the validated response to a request.
 * - Message IDs: {@link MessageIdAllocator}.
 * - Sending: {@link fragmentMessage} (or {@link fragmentMessageAsync} for an
 *   async stream) cuts a message into P-DATA-TF PDUs of at most the peer's
 *   maximum length, each a gathered `Uint8Array[]` for a vectored write; the
 *   data set is pulled lazily chunk by chunk and handed on as views. The
 *   layout is the one DCMTK accepts: even-length fragments, the command's
 *   end sharing a PDU with the data set's start, then one data set PDV per
 *   PDU (several data set PDVs in one PDU crash DCMTK 3.6.7's storescp).
 * - Receiving: a {@link Reassembler} is fed the PDVs of each P-DATA-TF and
 *   returns `command` (the decoded message: `hasDataSet` says whether a data
 *   set follows), `data` (each fragment as a view, never gathered) and `end`
 *   events, and throws typed errors for an unknown context, interleaved or
 *   out-of-order fragments, or an invalid command.
 * - Handing a received data set to its consumer: {@link DataSetStream}, an
 *   async iterable of chunks with backpressure (`push()` returns false at the
 *   high-water mark; pause the socket until `drained()`).
 *
 * Data sets are opaque here: bytes in the accepted transfer syntax.
 * Limits (LIMITS.md): a received command set is capped at 64 KiB
 * (`maxCommandLength`); a `DataSetStream` asks for a pause at 1 MiB buffered.
 *
 * @example
 * ```ts
 * import { CommandField, Priority, decodeMessage, encodeMessage } from '@dnet/dimse';
 *
 * const bytes = encodeMessage({
 *   commandField: CommandField.C_STORE_RQ,
 *   messageId: 1,
 *   priority: Priority.MEDIUM,
 *   affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
 *   affectedSopInstanceUid: '1.2.3.4',
 *   hasDataSet: true,
 * });
 * const message = decodeMessage(bytes);
 * if (message.commandField === CommandField.C_STORE_RQ) message.affectedSopInstanceUid; // '1.2.3.4'
 * ```
 *
 * @example
 * ```ts
 * import { PduDecoder, type PDataTf } from '@dnet/pdu';
 * import { Reassembler, fragmentMessage } from '@dnet/dimse';
 *
 * // Sender: a C-STORE-RQ with a streamed data set, cut for a peer that takes 16384-byte PDUs.
 * for (const pdu of fragmentMessage({ contextId: 1, command: storeRq, dataSet: chunks, maxPduLength: 16384 }))
 *   socket.write(Buffer.concat(pdu));
 *
 * // Receiver: PDUs in, messages and data set fragments out.
 * const decoder = new PduDecoder({ maxPduLength: 16384 });
 * const reassembler = new Reassembler({ isAcceptedContext: (id) => id === 1 });
 * socket.on('data', (chunk) => {
 *   for (const pdu of decoder.push(chunk)) {
 *     if (pdu.type !== 0x04) continue;
 *     for (const event of reassembler.push((pdu as PDataTf).pdvs)) {
 *       if (event.type === 'command') console.log(event.message.commandField, event.message.hasDataSet);
 *       else if (event.type === 'data') file.write(event.data);
 *       else console.log('message complete');
 *     }
 *   }
 * });
 * ```
 */

export {
  COMMAND_ELEMENTS,
  type CommandElementDef,
  type CommandFieldName,
  CommandTag,
  CommandVr,
} from './command-element.js';
export {
  CommandDataSetType,
  CommandField,
  commandName,
  isCommandField,
  isResponse,
  Priority,
} from './command-field.js';
export {
  type CommandSet,
  DEFAULT_MAX_COMMAND_LENGTH,
  type DecodeCommandSetOptions,
  decodeCommandSet,
  encodeCommandSet,
  type RawCommandElement,
} from './command-set.js';
export {
  DataSetStream,
  type DataSetStreamOptions,
  DEFAULT_DATA_SET_HIGH_WATER_MARK,
} from './data-set-stream.js';
export {
  type AnsweredRequest,
  type CCancelRq,
  type CEchoRq,
  type CEchoRsp,
  type CFindRq,
  type CFindRsp,
  type CGetRq,
  type CGetRsp,
  type CMoveRq,
  type CMoveRsp,
  type CStoreRq,
  type CStoreRsp,
  checkResponse,
  type DimseMessage,
  type DimseRequest,
  type DimseResponse,
  decodeMessage,
  encodeMessage,
  isResponseMessage,
  type MessageBase,
  messageType,
  type NActionRq,
  type NActionRsp,
  type NCreateRq,
  type NCreateRsp,
  type NDeleteRq,
  type NDeleteRsp,
  type NEventReportRq,
  type NEventReportRsp,
  type NGetRq,
  type NGetRsp,
  type NSetRq,
  type NSetRsp,
  type ResponseBase,
  type ResponseFields,
  type ResponseOf,
  respondTo,
  type StatusDetail,
  type SubOperationCounts,
  validateMessage,
} from './dimse-message.js';
export {
  BadSequenceError,
  CommandTooLargeError,
  DimseError,
  DimseErrorCode,
  type DimseErrorOptions,
  DnetError,
  type FieldErrorDetails,
  FieldNotAllowedError,
  InvalidCommandSetError,
  InvalidFieldError,
  InvalidOptionError,
  isDnetError,
  MessageIdsExhaustedError,
  MissingFieldError,
  OddFragmentError,
  ResponseMismatchError,
  StreamClosedError,
  UnknownCommandError,
  UnknownContextError,
} from './errors.js';
export {
  commandOnlyPdu,
  type DataSetSource,
  type FragmentOptions,
  fragmentMessage,
  fragmentMessageAsync,
  PDV_OVERHEAD,
  type SyncDataSetSource,
} from './fragment-message.js';
export { MessageIdAllocator, type MessageIdAllocatorOptions } from './message-id-allocator.js';
export {
  type CommandEvent,
  type DataEvent,
  type EndEvent,
  Reassembler,
  type ReassemblerOptions,
  type ReassemblerState,
  type ReassemblyEvent,
} from './reassembler.js';
export {
  describeStatus,
  formatStatus,
  isPending,
  isSuccessOrWarning,
  Status,
  StatusCategory,
  type StatusInfo,
  StatusService,
  statusCategory,
} from './status.js';
