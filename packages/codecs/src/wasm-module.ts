/**
 * Lazy loading of the Emscripten WebAssembly codec builds. Each is a CommonJS
 * factory reached through its package's subpath export (`/wasmjs`,
 * `/decodewasmjs`), loaded with `createRequire` on first use, so importing
 * `@dnet/codecs` costs no WebAssembly compilation.
 */
import { createRequire } from 'node:module';
import { CodecsError, CodecsErrorCode } from './errors.js';

/** What an Emscripten `MODULARIZE` factory accepts: where its stdout and stderr lines go. */
interface FactoryOptions {
  print: (line: string) => void;
  printErr: (line: string) => void;
}

/** A loaded Emscripten module, with the last line it printed on stderr. */
export interface WasmModule<T> {
  readonly api: T;
  /** The last stderr line (OpenJPEG reports its errors there), cleared by `takeError`. */
  takeError(): string | undefined;
}

/**
 * A loader that imports `specifier` once, on first call. OpenJPEG prints
 * `[INFO]` lines on stdout for every frame: stdout is dropped, stderr kept
 * as the text of the next error.
 *
 * @param specifier - the package subpath, e.g. `@cornerstonejs/codec-charls/wasmjs`
 */
export function lazyWasmModule<T>(specifier: string): () => Promise<WasmModule<T>> {
  let loading: Promise<WasmModule<T>> | undefined;
  return () => {
    loading ??= (async () => {
      let last: string | undefined;
      try {
        const require = createRequire(import.meta.url);
        const loaded = require(specifier) as
          | ((o: FactoryOptions) => Promise<T>)
          | { default: (o: FactoryOptions) => Promise<T> };
        const factory = typeof loaded === 'function' ? loaded : loaded.default;
        const api = await factory({
          print: () => {},
          printErr: (line) => {
            last = line;
          },
        });
        return {
          api,
          takeError: () => {
            const e = last;
            last = undefined;
            return e;
          },
        };
      } catch (e) {
        loading = undefined;
        throw new CodecsError(CodecsErrorCode.CODEC_UNAVAILABLE, `cannot load ${specifier}`, {
          cause: e,
        });
      }
    })();
    return loading;
  };
}
