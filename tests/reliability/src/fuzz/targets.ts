import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DataSet,
  decodeDataSet,
  deflateDataSet,
  encodeDataSet,
  TransferSyntax,
} from '@dnet/dataset';
import { decodeMessage } from '@dnet/dimse';
import { decodePdu, isDnetError, PduDecoder } from '@dnet/pdu';
import { fromHex, nextInput } from './mutate.js';
import type { Random } from './random.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The captured PDUs of `@dnet/pdu` (DCMTK and Orthanc on the wire). */
export const PDU_FIXTURES = join(here, '../../../../packages/pdu/src/fixtures');
/** Regression inputs found by fuzzing, `<target>-<id>.hex`. */
export const REGRESSION_FIXTURES = join(here, '../../fixtures');

/** An input that made a decoder throw something that is not a dnet error, or run too long. */
export interface Finding {
  /** The target that misbehaved. */
  target: TargetName;
  /** The input. */
  input: Uint8Array;
  /** What happened. */
  problem: string;
}

/** Names of the fuzz targets. */
export type TargetName = 'pdu' | 'command' | 'dataset';

/** A decoder under fuzz: feeds one input; throws what the decoder threw. */
export interface Target {
  /** Name, also the fixture prefix. */
  name: TargetName;
  /** Seeds the mutations start from. */
  seeds: Uint8Array[];
  /** Feeds one input (chunked at random where it applies). */
  run(input: Uint8Array, rng: Random): void;
}

/** Every captured PDU fixture's bytes. */
export function pduSeeds(): Uint8Array[] {
  return readdirSync(PDU_FIXTURES)
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((f) => fromHex(readFileSync(join(PDU_FIXTURES, f), 'utf8')));
}

/** The PDV payloads of the captured P-DATA-TF PDUs: command sets and data sets. */
function pdvSeeds(command: boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const bytes of pduSeeds()) {
    if (bytes[0] !== 0x04) continue;
    const pdu = decodePdu(bytes);
    if (pdu.type !== 0x04) continue;
    for (const pdv of pdu.pdvs) if (pdv.command === command) out.push(new Uint8Array(pdv.data));
  }
  return out;
}

/** A small data set with text, numbers, a nested sequence and an undefined-length item. */
function sampleDataSet(): DataSet {
  const ds = new DataSet();
  ds.setString('PatientName', 'DOE^JANE');
  ds.setString('PatientID', 'P1');
  ds.setString('SOPInstanceUID', '1.2.3.4.5');
  ds.setNumber('Rows', 4);
  const item = ds.addItem('ReferencedStudySequence');
  item.setString('ReferencedSOPInstanceUID', '1.2.3');
  item.addItem('ReferencedSeriesSequence').setString('SeriesInstanceUID', '1.2.3.4');
  ds.setBytes('PixelData', new Uint8Array(16), 'OW');
  return ds;
}

const DATASET_SYNTAXES = [
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
] as const;

/** Splits `input` into 1 to 4 random chunks (views). */
function chunks(input: Uint8Array, rng: Random): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  const n = rng.int(4);
  for (let i = 0; i < n && at < input.length; i++) {
    const end = at + rng.int(input.length - at + 1);
    out.push(input.subarray(at, end));
    at = end;
  }
  out.push(input.subarray(at));
  return out;
}

/** The three decoder targets. */
export function targets(): Target[] {
  const ds = sampleDataSet();
  const dataSetSeeds = [
    ...pdvSeeds(false),
    encodeDataSet(ds, TransferSyntax.ImplicitVRLittleEndian),
    encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian),
    encodeDataSet(ds, TransferSyntax.ExplicitVRBigEndian),
    deflateDataSet(encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian)),
  ];
  return [
    {
      name: 'pdu',
      seeds: pduSeeds(),
      run(input, rng) {
        // Small caps, so that a mutated length is refused rather than buffered.
        const decoder = new PduDecoder({ maxPduLength: 65_536, maxAssociationPduLength: 65_536 });
        for (const chunk of chunks(input, rng)) decoder.push(chunk);
      },
    },
    {
      name: 'command',
      seeds: pdvSeeds(true),
      run(input) {
        decodeMessage(input);
      },
    },
    {
      name: 'dataset',
      seeds: dataSetSeeds,
      run(input, rng) {
        decodeDataSet(input, rng.pick(DATASET_SYNTAXES), { maxInflatedSize: 1 << 20 });
      },
    },
  ];
}

/** Figures of a fuzz run over one target. */
export interface FuzzResult {
  /** Inputs fed. */
  inputs: number;
  /** Inputs that decoded without error. */
  accepted: number;
  /** Inputs refused with a dnet error. */
  refused: number;
  /** Slowest input, ms. */
  slowestMs: number;
  /** Untyped errors and over-deadline inputs. */
  findings: Finding[];
}

/**
 * Feeds one input to a target and classifies the outcome: a dnet error or a
 * clean decode is fine; anything else, or a run over `deadlineMs`, is a finding.
 * (The decoders are synchronous, so the deadline is checked after the fact.)
 */
export function feed(
  target: Target,
  input: Uint8Array,
  rng: Random,
  deadlineMs: number,
): { outcome: 'accepted' | 'refused'; ms: number; problem?: string } {
  const start = performance.now();
  let outcome: 'accepted' | 'refused' = 'accepted';
  let problem: string | undefined;
  try {
    target.run(input, rng);
  } catch (error) {
    outcome = 'refused';
    if (!isDnetError(error)) {
      problem = `untyped ${(error as Error)?.constructor?.name}: ${(error as Error)?.message ?? String(error)}`;
    }
  }
  const ms = performance.now() - start;
  if (ms > deadlineMs) problem = `${problem ? `${problem}; ` : ''}took ${ms.toFixed(0)} ms`;
  return { outcome, ms, ...(problem && { problem }) };
}

/** Runs `target` on mutated inputs until `count` inputs or `untilMs` (epoch ms), whichever first. */
export function fuzzTarget(
  target: Target,
  rng: Random,
  options: { count?: number; untilMs?: number; deadlineMs?: number },
): FuzzResult {
  const result: FuzzResult = { inputs: 0, accepted: 0, refused: 0, slowestMs: 0, findings: [] };
  const count = options.count ?? Number.POSITIVE_INFINITY;
  const until = options.untilMs ?? Number.POSITIVE_INFINITY;
  while (result.inputs < count && (result.inputs % 64 !== 0 || Date.now() < until)) {
    const input = nextInput(rng, target.seeds);
    const r = feed(target, input, rng, options.deadlineMs ?? 1000);
    result.inputs++;
    result[r.outcome]++;
    result.slowestMs = Math.max(result.slowestMs, r.ms);
    if (r.problem && result.findings.length < 100) {
      result.findings.push({ target: target.name, input, problem: r.problem });
    }
  }
  return result;
}
