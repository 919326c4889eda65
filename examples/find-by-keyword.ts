/**
 * C-FIND by keyword (PS3.4 §C.4.1): the studies whose Patient's Name matches a
 * pattern (`*` and `?` wildcards, PS3.4 §C.2.2.2.4), queried and read by
 * attribute keyword. An empty value asks the peer to return the attribute
 * (universal matching, PS3.4 §C.2.2.2.3).
 *
 * Run (from the repository, after `pnpm build`):
 *   pnpm --filter @dnet/examples exec tsx find-by-keyword.ts 127.0.0.1 11112 'DOE^*'
 * Environment: CALLED_AE (default ANY-SCP), CALLING_AE (default DNET).
 */
import { Client, queryRetrieve } from '@dnet/services';
import { tcp } from '@dnet/transport-tcp';

const [host = '127.0.0.1', port = '11112', pattern = 'DOE^*'] = process.argv.slice(2);

const client = await Client.connect({
  transport: tcp(),
  host,
  port: Number(port),
  callingAeTitle: process.env.CALLING_AE ?? 'DNET',
  calledAeTitle: process.env.CALLED_AE ?? 'ANY-SCP',
  // Study Root Query/Retrieve Information Model - FIND (PS3.4 §C.6.2).
  contexts: [queryRetrieve('study', { operations: ['find'] })],
});
try {
  let count = 0;
  const query = { PatientName: pattern, PatientID: '', StudyDate: '', StudyInstanceUID: '' };
  for await (const study of client.find(query, { level: 'STUDY', as: 'keywords' })) {
    count++;
    console.log(
      `${study.PatientName ?? ''}\t${study.PatientID ?? ''}\t${study.StudyDate ?? ''}\t${study.StudyInstanceUID ?? ''}`,
    );
  }
  console.log(`${count} matching stud${count === 1 ? 'y' : 'ies'}`);
} finally {
  await client.release();
}
