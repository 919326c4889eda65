/**
 * An Error Comment (0000,0902) as the wire allows it: LO (PS3.7 Annex C,
 * PS3.5 §6.2), at most 64 characters of the default repertoire without
 * backslash. Anything else is replaced, so a handler's message can never make
 * a response unencodable (which would leave the peer without an answer).
 */
export function errorCommentText(text: string): string {
  return text.replace(/[^\x20-\x5b\x5d-\x7e]/g, '?').slice(0, 64);
}
