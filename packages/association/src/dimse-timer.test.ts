import { respondTo } from '@dnet/dimse';
import { memory } from '@dnet/transport';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Association } from './association.js';
import type { AcceptorPolicy } from './negotiation.js';
import { Timer } from './timer.js';

// The DIMSE timer of PS3.7 §9.1 is one timer per association with a deadline
// per operation (no setTimeout per message): these tests pin its behaviour.

const VERIFICATION = '1.2.840.10008.1.1';
const IMPLICIT = '1.2.840.10008.1.2';

const policy: AcceptorPolicy = {
  contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
  calledAeTitles: ['SCP'],
  asyncOperationsWindow: { maxInvoked: 0, maxPerformed: 0 },
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** A requestor with `dimseMs`, and an acceptor answering C-ECHO as `answer` says. */
async function echoPair(dimseMs: number, answer: (n: number) => number | undefined) {
  const transport = memory();
  let count = 0;
  const listener = await transport.listen({ port: 0 }, (c) => {
    Association.accept(c, { policy })
      .then((a) => {
        a.handle('C-ECHO', (rq) => {
          const delay = answer(++count);
          if (delay === undefined) return; // never answered
          setTimeout(() => rq.respond(respondTo(rq.message, { status: 0 })).catch(() => {}), delay);
        });
      })
      .catch(() => {});
  });
  cleanup.push(() => listener.close());
  const requestor = await Association.request({
    transport,
    host: listener.host,
    port: listener.port,
    timeouts: { dimseMs },
    proposal: {
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
      asyncOperationsWindow: { maxInvoked: 0, maxPerformed: 0 },
    },
  });
  cleanup.push(async () => {
    requestor.abort();
    await requestor.closed;
  });
  return requestor;
}

describe('DIMSE timer (PS3.7 §9.1), one deadline per operation', () => {
  it('does not fire while each response comes within dimseMs, however long the series', async () => {
    // Six echoes answered after 30 ms each: 180 ms in all, three times dimseMs.
    const requestor = await echoPair(60, () => 30);
    for (let i = 0; i < 6; i++)
      expect((await requestor.cEcho()).message).toMatchObject({ status: 0 });
    expect(requestor.state).toBe('Sta6');
    await requestor.release();
  });

  it('times out the operation left unanswered while a later one was answered', async () => {
    // The first echo is never answered; the second (sent 40 ms later) is, at once.
    const requestor = await echoPair(80, (n) => (n === 1 ? undefined : 0));
    const first = requestor.cEcho().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 40));
    expect((await requestor.cEcho()).message).toMatchObject({ status: 0 });
    expect(requestor.state).toBe('Sta6');
    expect(await first).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'dimse' });
    await requestor.closed;
  });
});

describe('Timer restarts lazily', () => {
  it('expires at the latest deadline after many restarts, with one timeout pending', () => {
    vi.useFakeTimers();
    try {
      const onExpire = vi.fn();
      const t = new Timer('idle', 100, onExpire);
      for (let i = 0; i < 50; i++) {
        t.start();
        vi.advanceTimersByTime(10);
        expect(vi.getTimerCount()).toBe(1);
      }
      // Last restart at 490 ms: expiry at 590 ms, not before.
      vi.advanceTimersByTime(89);
      expect(onExpire).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(onExpire).toHaveBeenCalledTimes(1);
      expect(t.running).toBe(false);
      expect(t.signal.aborted).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('start(ms) with a nearer deadline than the pending one re-arms sooner', () => {
    vi.useFakeTimers();
    try {
      const onExpire = vi.fn();
      const t = new Timer('dimse', 1000, onExpire);
      t.start();
      t.start(10);
      vi.advanceTimersByTime(10);
      expect(onExpire).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
