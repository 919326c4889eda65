/**
 * `@dnet/codecs`: pixel codecs for dnet, kept apart so that users who never
 * touch pixels do not install WebAssembly. Each codec decodes and encodes one
 * frame at a time (see {@link FrameCodec}).
 *
 * @packageDocumentation
 */
export type {
  DecodedFrame,
  EncodedFrame,
  EncodeOptions,
  FrameCodec,
  FrameDescription,
} from './frame-codec.js';
