import { createRequire } from 'node:module';

/** The version of dnet-scp: its package.json's, the one place changesets bump. */
export const VERSION: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version;

/** What `--version` prints. */
export const VERSION_LINE = `dnet-scp ${VERSION}`;

/** What `--help` prints. */
export const HELP = `dnet-scp: a small DICOM archive: verification, storage, query/retrieve, worklist

Usage:
  dnet-scp [options]               run the archive
  dnet-scp conformance [options]   print its DICOM conformance statement (PS3.2 Annex A,
                                   Markdown) for these options, then exit

Options:
  --port N                   port to listen on (default 11112, 2762 with --tls; 0: a free one)
  --host ADDRESS             address to bind (default 0.0.0.0)
  --aet TITLE                our AE title (default DNETSCP)
  --storage DIR              storage folder (default ./dnet-data)
  --db FILE|URL              SQLite index (default <storage>/index.sqlite), or
                             postgres://user@host:port/db shared by several nodes
  --node-id NAME             this node's name when nodes share --storage (docs/scale-out.md);
                             with a PostgreSQL --db it defaults to the host name
  --max-pdu N                maximum PDU length we receive, bytes (default 262144)
  --peer AET=host:port       a C-MOVE destination (repeatable)
  --allow-aet TITLE          accept only these calling AE titles (repeatable)
  --max-associations N       concurrent associations (default 64)
  --worklist DIR             serve Modality Worklist from *.json / *.wl files in DIR
  --tls --cert F --key F     DICOM over TLS (PS3.15 Annex B)
  --ca F                     CA certificates clients must chain to
  --require-client-cert      refuse clients without a valid certificate (needs --ca)
  --allow-cert-subject CN    accept only client certificates with this subject CN (repeatable, needs --ca)
  --allow-cert-fingerprint H accept only client certificates with this SHA-256 fingerprint (repeatable)
  --max-associations-per-ae N  concurrent associations per calling AE title
  --gc-every-mib N           MiB received between two young-generation GCs (default 8; 0: V8 decides)
  --jwt-key FILE             require a JWT user identity (PS3.7 D.3.3.7) verified with this key:
                             PEM public key (RS256/ES256) or shared secret (HS256, >= 32 bytes)
  --jwt-issuer ISS, --jwt-audience AUD   required JWT iss / aud
  --users FILE               require username/password (JSON {"user": "scrypt$..."})
  --on-duplicate POLICY      an instance already stored: keep it (default; Success), replace, reject (A701H)
  --store-as SYNTAX          store images in this transfer syntax, transcoded as received
                             (jpeg-ls-lossless, rle, j2k-lossless, htj2k-lossless, explicit-le...
                             or a UID); what cannot be transcoded is stored as received
  --lossy                    allow a lossy --store-as syntax (jpeg-baseline, j2k...): new SOP Instance UIDs
  --config FILE              the same settings as JSON ({"port": 11112, "peers": {"DEST": "host:port"}, ...})
  --log-level LEVEL          fatal, error, warn, info (default), debug, trace, silent
  --shutdown-timeout MS      how long SIGINT/SIGTERM wait for operations in flight (default 10000)
  --workers N|auto           processes serving associations (default 1; auto: one per core); above 1
                             a primary holds the index and the limits, N workers share the port
  -h, --help                 this text
  --version                  the version

Prints "listening on <host>:<port>" once it accepts associations; logs JSON lines to stderr.
`;
