/**
 * The low-level association API, step by step (as LEADTOOLS' LDicomNet
 * exposes it): request an association (A-ASSOCIATE, PS3.8 §7.1), send one
 * P-DATA-TF by hand carrying a C-ECHO-RQ command built with @dnet/dimse
 * (PS3.7 §9.3.5, the command set always Implicit VR Little Endian, PS3.7
 * §6.3.1), read the P-DATA-TF that answers it, decode the C-ECHO-RSP, and
 * release (A-RELEASE, PS3.8 §7.2). Each PDU sent and received is printed.
 * `Client.echo()` does all of this in one call.
 *
 * Run (from the repository, after `pnpm build`):
 *   pnpm --filter @dnet/examples exec tsx low-level-association.ts 127.0.0.1 11112
 * Environment: CALLED_AE (default ANY-SCP), CALLING_AE (default DNET).
 */
import { Association } from '@dnet/association';
import { CommandField, decodeMessage, encodeMessage, formatStatus } from '@dnet/dimse';
import { PduType } from '@dnet/pdu';
import { tcp } from '@dnet/transport-tcp';

const [host = '127.0.0.1', port = '11112'] = process.argv.slice(2);
const VERIFICATION = '1.2.840.10008.1.1'; // Verification SOP Class (PS3.4 Annex A)
const IMPLICIT_VR_LE = '1.2.840.10008.1.2'; // the default transfer syntax (PS3.5 §10.1)
const pduName = (type: number) =>
  Object.entries(PduType)
    .find(([, value]) => value === type)?.[0]
    .replaceAll('_', '-') ?? type;

// 1. A-ASSOCIATE: one presentation context (ID 1, PS3.8 §9.3.2.2) for Verification.
const association = Association.requestor();
association.on('pdu-sent', (pdu) => console.log(`-> ${pduName(pdu.type)}`));
association.on('pdu-received', (pdu) => console.log(`<- ${pduName(pdu.type)}`));
await association.associate({
  transport: tcp(),
  host,
  port: Number(port),
  proposal: {
    callingAeTitle: process.env.CALLING_AE ?? 'DNET',
    calledAeTitle: process.env.CALLED_AE ?? 'ANY-SCP',
    contexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_VR_LE] }],
  },
});
const context = association.info.contexts.find((c) => c.id === 1);
if (!context?.accepted) throw new Error('the peer did not accept the Verification context');
console.log(`associated; context 1 accepted with ${context.transferSyntax}`);

try {
  // 2. The answer: PDVs of the command, gathered until the one marked last (PS3.8 Annex E.2).
  const response = new Promise<Uint8Array>((resolve, reject) => {
    const parts: Uint8Array[] = [];
    const timer = setTimeout(() => reject(new Error('no C-ECHO-RSP within 10 s')), 10_000);
    const onData = (pdvs: { command: boolean; last: boolean; data: Uint8Array }[]) => {
      for (const pdv of pdvs) {
        if (!pdv.command) continue;
        parts.push(pdv.data.slice()); // copied: the view belongs to the read buffer
        if (pdv.last) {
          clearTimeout(timer);
          association.off('p-data', onData);
          resolve(Buffer.concat(parts));
        }
      }
    };
    association.on('p-data', onData);
  });

  // 3. P-DATA-TF by hand: one PDV, command, last fragment, the encoded C-ECHO-RQ.
  const echoRq = encodeMessage({
    commandField: CommandField.C_ECHO_RQ,
    messageId: 1,
    affectedSopClassUid: VERIFICATION,
    hasDataSet: false,
  });
  await association.sendPData([{ contextId: context.id, command: true, last: true, data: echoRq }]);

  // 4. The C-ECHO-RSP, decoded.
  const rsp = decodeMessage(await response);
  if (rsp.commandField !== CommandField.C_ECHO_RSP) throw new Error('expected a C-ECHO-RSP');
  console.log(
    `C-ECHO-RSP to message ${rsp.messageIdBeingRespondedTo}: status ${formatStatus(rsp.status)}`,
  );
  if (rsp.status !== 0) process.exitCode = 1;
} finally {
  // 5. A-RELEASE.
  await association.release();
  console.log('released');
}
