/** The deepest sequence nesting accepted in a record or worklist item (default of {@link dicomJsonProblem}). */
export const DEFAULT_MAX_JSON_DEPTH = 16;

/** An attribute tag in DICOM JSON: 8 upper-case hex digits (PS3.18 §F.2.1.1). */
const TAG = /^[0-9A-F]{8}$/;
/** A VR: two upper-case letters (PS3.5 §6.2). */
const VR = /^[A-Z]{2}$/;

/**
 * Why `value` is not a data set in the DICOM JSON Model (PS3.18 §F.2), or
 * `undefined` when it is one. Checks the shape only: tags, VRs, `Value`
 * arrays, and sequence items (recursively, at most `maxDepth` deep).
 */
export function dicomJsonProblem(
  value: unknown,
  maxDepth: number = DEFAULT_MAX_JSON_DEPTH,
): string | undefined {
  return problemAt(value, maxDepth, '');
}

function problemAt(value: unknown, depth: number, where: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `${where || 'the data set'} is not a JSON object`;
  }
  if (depth < 0) return `${where}: sequences nested too deeply`;
  for (const [tag, attribute] of Object.entries(value)) {
    const at = where ? `${where}/${tag}` : tag;
    if (!TAG.test(tag)) return `${at}: a tag must be 8 upper-case hex digits (PS3.18 §F.2.1.1)`;
    if (typeof attribute !== 'object' || attribute === null || Array.isArray(attribute)) {
      return `${at}: an attribute must be a JSON object (PS3.18 §F.2.2)`;
    }
    const { vr, Value } = attribute as { vr?: unknown; Value?: unknown };
    if (typeof vr !== 'string' || !VR.test(vr)) return `${at}: missing or malformed vr`;
    if (Value === undefined) continue;
    if (!Array.isArray(Value)) return `${at}: Value must be an array (PS3.18 §F.2.4)`;
    if (vr === 'SQ') {
      for (let i = 0; i < Value.length; i++) {
        const problem = problemAt(Value[i], depth - 1, `${at}[${i}]`);
        if (problem) return problem;
      }
    }
  }
  return undefined;
}
