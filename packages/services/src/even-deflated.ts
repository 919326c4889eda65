/** Even-length deflated data sets on the wire (PS3.5 §A.5). */

/** The pad byte of an odd deflated data set (PS3.5 §A.5). */
const PAD = new Uint8Array(1);

/**
 * A deflated data set padded to an even length with one trailing zero byte,
 * as PS3.5 §A.5 requires ("If the deflated data stream has an odd length, a
 * single trailing NULL byte shall be added"): files written by tools that
 * forgot it are sent right. An array of chunks stays an array (the
 * synchronous send path); a stream is counted as it goes by.
 *
 * @param chunks - the deflated data set's bytes
 */
export function evenDeflated(
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Iterable<Uint8Array> | AsyncIterable<Uint8Array> {
  if (Array.isArray(chunks)) {
    let n = 0;
    for (const c of chunks as Uint8Array[]) n += c.length;
    return n % 2 === 0 ? chunks : [...(chunks as Uint8Array[]), PAD];
  }
  return (async function* () {
    let n = 0;
    for await (const c of chunks as AsyncIterable<Uint8Array>) {
      n += c.length;
      yield c;
    }
    if (n % 2 !== 0) yield PAD;
  })();
}
