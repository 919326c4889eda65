/**
 * Imports the UID registry (PS3.6 Annex A, Table A-1) into the committed,
 * machine-made snapshot `registry/uids.json`, read by `generate.ts` at build
 * time. Run it by hand when a newer source is at hand:
 *
 *     apt-get install -y python3-pydicom      # Debian 12: pydicom 2.3.1, DICOM 2022a
 *     pnpm --filter @dnet/dataset run import-registry [path/to/pydicom]
 *
 * Source: pydicom's `_uid_dict.py`, which pydicom generates from the DocBook
 * of PS3.6 (`UID: (Name, Type, Info, Retired, Keyword)`). The file is a Python
 * literal; it is read with Python's own `ast.literal_eval`, so no quoting rule
 * is re-implemented here, and pydicom itself is never imported. The snapshot
 * records where it came from (package, version, DICOM edition, SHA-256 of the
 * file) so a later import can be compared with it. Nothing is typed by hand.
 *
 * The build never runs this script: a fresh machine with only Node and npm
 * builds from the committed snapshot.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, '..', 'registry', 'uids.json');
const DEBIAN_PACKAGE = 'python3-pydicom';
const DEFAULT_DIR = '/usr/lib/python3/dist-packages/pydicom';

/** Reads a Python literal assigned in `file` as JSON, with Python's own parser. */
function pythonLiteral(file: string, name: string): unknown {
  const program = [
    'import ast, json, sys',
    'tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())',
    'for node in tree.body:',
    '    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []',
    '    if any(getattr(t, "id", None) == sys.argv[2] for t in targets):',
    '        json.dump(ast.literal_eval(node.value), sys.stdout)',
    '        sys.exit(0)',
    'sys.exit("no " + sys.argv[2] + " in " + sys.argv[1])',
  ].join('\n');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  return JSON.parse(
    execFileSync(python, ['-c', program, file, name], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    }),
  );
}

function debianVersion(): string | null {
  try {
    return execFileSync('dpkg-query', ['-W', `-f=\${Version}`, DEBIAN_PACKAGE], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return null;
  }
}

function main(): void {
  const dir = process.argv[2] ?? DEFAULT_DIR;
  const file = join(dir, '_uid_dict.py');
  if (!existsSync(file)) {
    console.error(
      `${file} not found: install it with 'apt-get install -y ${DEBIAN_PACKAGE}' or pass pydicom's directory`,
    );
    process.exit(1);
  }
  const text = readFileSync(file);
  const dict = pythonLiteral(file, 'UID_dictionary') as Record<
    string,
    [string, string, string, string, string]
  >;
  const versionFile = join(dir, '_version.py');
  const version = existsSync(versionFile)
    ? {
        pydicom: pythonLiteral(versionFile, '__version__') as string,
        dicom: pythonLiteral(versionFile, '__dicom_version__') as string,
      }
    : { pydicom: null, dicom: null };

  const uids = Object.entries(dict)
    .filter(([uid]) => /^[0-9]+(\.[0-9]+)*$/.test(uid))
    .map(([uid, [name, type, info, retired, keyword]]) => ({
      uid,
      keyword,
      name,
      type,
      info,
      retired: retired === 'Retired',
    }))
    .sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  if (uids.length < 100) throw new Error(`only ${uids.length} UIDs read from ${file}`);

  const snapshot = {
    description:
      'PS3.6 Table A-1 (UID registry), machine-made by scripts/import-registry.ts. Do not edit.',
    source: {
      file: 'pydicom/_uid_dict.py',
      pydicomVersion: version.pydicom,
      dicomEdition: version.dicom,
      debianPackage: dir === DEFAULT_DIR ? `${DEBIAN_PACKAGE} ${debianVersion() ?? '?'}` : null,
      sha256: createHash('sha256').update(text).digest('hex'),
    },
    count: uids.length,
    uids,
  };
  mkdirSync(dirname(target), { recursive: true });
  // One entry a line: diffs between two imports stay readable.
  const lines = uids.map((u) => `    ${JSON.stringify(u)}`);
  const { uids: _omit, ...head } = snapshot;
  const headJson = JSON.stringify(head, null, 2);
  writeFileSync(target, `${headJson.slice(0, -2)},\n  "uids": [\n${lines.join(',\n')}\n  ]\n}\n`);
  console.log(
    `imported ${uids.length} UIDs (pydicom ${version.pydicom}, DICOM ${version.dicom}) into ${target}`,
  );
}

main();
