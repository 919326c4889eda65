import { parseArgs } from 'node:util';
import { resolveTransferSyntax, TRANSFER_SYNTAX_NAMES, transcodeFile } from '@dnet/codecs';
import { type Command, ExitStatus, printHelp, uidName } from '../command.js';
import { UsageError } from '../errors.js';
import { writeRecord } from '../json-output.js';

const HELP = `Usage: dnet-scu convert <in> <out> --ts <syntax> [options]

Transcodes a DICOM file to another transfer syntax, one frame at a time, as
DCMTK's dcmcjpeg/dcmdjpeg, dcmcjpls/dcmdjpls and dcmcrle/dcmdrle do.

Options:
  --ts SYNTAX          the transfer syntax wanted: a UID or one of
                       ${Object.keys(TRANSFER_SYNTAX_NAMES).join(', ')}
  --lossy              allow lossy compression (jpeg-ls-near-lossless, j2k,
                       htj2k...): sets Lossy Image Compression, its ratio and
                       method, and gives the image a new SOP Instance UID
  --quality N          lossy quality 1-100 (HTJ2K)
  --ratio R            lossy compression ratio (JPEG 2000, default 10)
  --max-error N        largest error per sample (JPEG-LS near-lossless, default 2)
  --json               one JSON object on stdout
  -h, --help           this help

Examples:
  dnet-scu convert ct.dcm ct-jls.dcm --ts jpeg-ls-lossless
  dnet-scu convert us.dcm us-raw.dcm --ts explicit-le
  dnet-scu convert mr.dcm mr-j2k.dcm --ts j2k --lossy --ratio 15`;

function numberOption(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a number from ${min} to ${max}`);
  return n;
}

/** `dnet-scu convert`: a file from one transfer syntax to another. */
export const convert: Command = {
  summary: 'convert <in> <out> --ts <syntax>  transcode a file (RLE, JPEG-LS, JPEG 2000...)',
  async run(argv, io) {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv);
    } catch (cause) {
      throw new UsageError((cause as Error).message, { cause });
    }
    const { values, positionals } = parsed;
    if (values.help) return printHelp(io, HELP);
    if (positionals.length !== 2) throw new UsageError('give an input and an output file');
    if (!values.ts) throw new UsageError('--ts is required');
    let transferSyntaxUid: string;
    try {
      transferSyntaxUid = resolveTransferSyntax(values.ts);
    } catch (cause) {
      throw new UsageError((cause as Error).message, { cause });
    }
    const quality = numberOption('quality', values.quality, 1, 100);
    const ratio = numberOption('ratio', values.ratio, 1, 10_000);
    const maxError = numberOption('max-error', values['max-error'], 0, 255);
    if (!values.lossy && (quality ?? ratio ?? maxError) !== undefined) {
      throw new UsageError('--quality, --ratio and --max-error need --lossy');
    }
    const lossy = values.lossy
      ? {
          ...(quality !== undefined ? { quality } : {}),
          ...(ratio !== undefined ? { ratio } : {}),
          ...(maxError !== undefined ? { maxError } : {}),
        }
      : undefined;
    const [input, output] = positionals as [string, string];
    const info = await transcodeFile(input, output, {
      transferSyntaxUid,
      ...(lossy ? { lossy } : {}),
    });
    if (values.json) writeRecord(io, 'file', { operation: 'convert', input, output, ...info });
    else {
      io.out(
        `${input} -> ${output}: ${uidName(info.fromTransferSyntaxUid)} to ${uidName(info.transferSyntaxUid)}, ${info.frames} frame(s)${info.lossy ? `, lossy: new SOP Instance UID ${info.sopInstanceUid}` : ''}`,
      );
    }
    return ExitStatus.OK;
  },
};

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      ts: { type: 'string' },
      lossy: { type: 'boolean' },
      quality: { type: 'string' },
      ratio: { type: 'string' },
      'max-error': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
