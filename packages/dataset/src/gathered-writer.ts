/**
 * Gathered writes to a file: chunks are collected and handed to the kernel with
 * one `writev` per batch instead of one `write` per chunk. Small chunks are
 * copied into shared staging buffers (so few iovecs and no alias of a caller's
 * small buffer); large chunks are passed on as they are (no copy).
 */
import type { FileHandle } from 'node:fs/promises';

/** Chunks smaller than this are copied into a staging buffer. */
const SMALL_CHUNK = 16 * 1024;
/** Size of a staging buffer. */
const STAGING = 64 * 1024;
/** A batch is written once it holds this many bytes... */
const BATCH_BYTES = 4 * 1024 * 1024;
/** ...or this many buffers (below Linux's IOV_MAX of 1024). */
const BATCH_BUFFERS = 512;

/** Collects chunks for a file and writes them with few `writev` calls. */
export class GatheredWriter {
  readonly #fh: FileHandle;
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #staging: Uint8Array | undefined;
  #stagingStart = 0;
  #stagingPos = 0;

  /** @param fh - an open file, written from its current position */
  constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  /**
   * Adds a chunk; writes a batch when one is full. A large chunk must not be
   * changed until {@link flush} has resolved.
   *
   * @param chunk - the next bytes
   */
  async add(chunk: Uint8Array): Promise<void> {
    const n = chunk.length;
    if (n === 0) return;
    if (n < SMALL_CHUNK) {
      if (!this.#staging || this.#stagingPos + n > this.#staging.length) {
        this.#closeStaging();
        this.#staging = new Uint8Array(STAGING);
        this.#stagingStart = 0;
        this.#stagingPos = 0;
      }
      this.#staging.set(chunk, this.#stagingPos);
      this.#stagingPos += n;
      this.#batchBytes += n;
    } else {
      this.#closeStaging();
      this.#batch.push(chunk);
      this.#batchBytes += n;
    }
    if (this.#batchBytes >= BATCH_BYTES || this.#batch.length >= BATCH_BUFFERS) {
      await this.flush();
    }
  }

  /** Writes everything added so far. */
  async flush(): Promise<void> {
    this.#closeStaging();
    const batch = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    if (batch.length === 0) return;
    let total = 0;
    for (const b of batch) total += b.length;
    let pending = batch;
    // A short write is resumed where it stopped; each round makes progress or throws.
    for (;;) {
      const { bytesWritten } = await this.#fh.writev(pending);
      total -= bytesWritten;
      if (total === 0) return;
      if (bytesWritten === 0) throw new Error('writev wrote nothing');
      pending = rest(pending, bytesWritten);
    }
  }

  /** Moves the filled part of the staging buffer into the batch (the rest stays usable). */
  #closeStaging(): void {
    if (!this.#staging || this.#stagingPos === this.#stagingStart) return;
    this.#batch.push(this.#staging.subarray(this.#stagingStart, this.#stagingPos));
    this.#stagingStart = this.#stagingPos;
  }
}

/** The buffers that remain after the first `n` bytes. */
function rest(buffers: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (n >= buffers[i]!.length) n -= buffers[i++]!.length;
  return [buffers[i]!.subarray(n), ...buffers.slice(i + 1)];
}
