import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { socketConnection } from './socket-connection.js';

/** The part of a net.Socket that socketConnection writes through, recording cork state per write. */
class RecordingSocket extends EventEmitter {
  corked = 0;
  corks = 0;
  flushes: Uint8Array[][] = [];
  #pending: Uint8Array[] = [];
  destroyed = false;
  writableNeedDrain = false;
  remoteAddress = '127.0.0.1';
  remotePort = 1;
  localAddress = '127.0.0.1';
  localPort = 2;
  cork(): void {
    this.corked++;
    this.corks++;
  }
  uncork(): void {
    if (this.corked === 0) return;
    this.corked--;
    if (this.corked === 0) this.#flush();
  }
  write(chunk: Uint8Array): boolean {
    this.#pending.push(chunk);
    if (this.corked === 0) this.#flush();
    return true;
  }
  #flush(): void {
    if (this.#pending.length > 0) this.flushes.push(this.#pending);
    this.#pending = [];
  }
  end(): void {
    this.corked = 0;
    this.#flush();
  }
  destroy(): void {
    this.destroyed = true;
  }
  pause(): void {}
  resume(): void {}
}

const bytes = (...b: number[]) => new Uint8Array(b);
const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('socketConnection() writes', () => {
  it('gathers every write of one tick into one flush, in order, and the next tick into another', async () => {
    const socket = new RecordingSocket();
    const connection = socketConnection(socket as unknown as Socket);
    connection.write(bytes(1));
    connection.write([bytes(2), bytes(3)]);
    await Promise.resolve(); // a promise job of the same tick still joins the batch
    connection.write(bytes(4));
    expect(socket.flushes).toEqual([]);
    await nextTick();
    expect(socket.flushes).toEqual([[bytes(1), bytes(2), bytes(3), bytes(4)]]);
    connection.write(bytes(5));
    await nextTick();
    expect(socket.flushes).toEqual([[bytes(1), bytes(2), bytes(3), bytes(4)], [bytes(5)]]);
    expect(socket.corks).toBe(2);
    expect(socket.corked).toBe(0);
  });

  it('flushes what this tick wrote when closed before the tick ends', async () => {
    const socket = new RecordingSocket();
    const connection = socketConnection(socket as unknown as Socket, { closeTimeoutMs: 50 });
    connection.write(bytes(7, 8));
    void connection.close();
    expect(socket.flushes).toEqual([[bytes(7, 8)]]);
    await nextTick();
    expect(socket.corked).toBe(0);
    socket.emit('close');
  });
});
