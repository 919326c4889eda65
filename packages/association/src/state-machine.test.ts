import { describe, expect, it } from 'vitest';
import {
  type Action,
  type Event,
  eventDescriptions,
  events,
  type State,
  stateDescriptions,
  states,
  transition,
} from './state-machine.js';
import { table9_10 } from './table-9-10.test-support.js';

/** Next state of each action, PS3.8 Tables 9-6..9-9 (context-free ones). */
const nextState: Partial<Record<Action, State>> = {
  'AE-1': 'Sta4',
  'AE-2': 'Sta5',
  'AE-3': 'Sta6',
  'AE-4': 'Sta1',
  'AE-5': 'Sta2',
  'AE-7': 'Sta6',
  'AE-8': 'Sta13',
  'DT-1': 'Sta6',
  'DT-2': 'Sta6',
  'AR-1': 'Sta7',
  'AR-2': 'Sta8',
  'AR-3': 'Sta1',
  'AR-4': 'Sta13',
  'AR-5': 'Sta1',
  'AR-6': 'Sta7',
  'AR-7': 'Sta8',
  'AR-9': 'Sta11',
  'AR-10': 'Sta12',
  'AA-1': 'Sta13',
  'AA-2': 'Sta1',
  'AA-3': 'Sta1',
  'AA-4': 'Sta1',
  'AA-5': 'Sta1',
  'AA-6': 'Sta13',
  'AA-7': 'Sta13',
  'AA-8': 'Sta13',
};

/** Events that are PDUs arriving from the peer. */
const pduEvents: readonly Event[] = [
  'Evt3',
  'Evt4',
  'Evt6',
  'Evt10',
  'Evt12',
  'Evt13',
  'Evt16',
  'Evt19',
];

describe('PS3.8 Table 9-10', () => {
  it('names 13 states and 19 events', () => {
    expect(states).toHaveLength(13);
    expect(events).toHaveLength(19);
    expect(Object.keys(stateDescriptions)).toEqual(states);
    expect(Object.keys(eventDescriptions)).toEqual(events);
  });

  for (const event of events) {
    const row = table9_10[event].split(' ');
    expect(row).toHaveLength(13);
    states.forEach((state, column) => {
      const cell = row[column]!;
      it(`${state} x ${event} -> ${cell}`, () => {
        const result = transition(state, event, { requestor: true, userInitiatedAbort: true });
        if (cell === '-') {
          expect(result).toBeUndefined();
          return;
        }
        expect(result?.action).toBe(cell);
        const expected = nextState[cell as Action];
        if (expected) expect(result?.next).toBe(expected);
        // An invalid PDU in an association state ends in an abort (AA-*), never in data transfer.
        if (pduEvents.includes(event) && result && cell.startsWith('AA-')) {
          expect(['Sta1', 'Sta13']).toContain(result.next);
        }
      });
    });
  }
});

describe('context-dependent actions', () => {
  it('AE-6 accepts to Sta3 or rejects to Sta13 with ARTIM', () => {
    expect(transition('Sta2', 'Evt6')).toEqual({
      action: 'AE-6',
      next: 'Sta3',
      effects: ['stop-artim', 'indicate-a-associate'],
    });
    expect(transition('Sta2', 'Evt6', { acceptable: false })).toEqual({
      action: 'AE-6',
      next: 'Sta13',
      effects: ['stop-artim', 'send-a-associate-rj', 'start-artim'],
    });
  });

  it('AR-8 goes to Sta9 for the requestor and Sta10 for the acceptor (release collision)', () => {
    expect(transition('Sta7', 'Evt12', { requestor: true })?.next).toBe('Sta9');
    expect(transition('Sta7', 'Evt12', { requestor: false })?.next).toBe('Sta10');
  });

  it('walks both release-collision paths to the end', () => {
    // Requestor: Sta7 -Evt12-> Sta9 -Evt14-> Sta11 -Evt13-> Sta1
    let s: State = 'Sta7';
    s = transition(s, 'Evt12', { requestor: true })!.next;
    s = transition(s, 'Evt14')!.next;
    expect(s).toBe('Sta11');
    expect(transition(s, 'Evt13')).toMatchObject({ action: 'AR-3', next: 'Sta1' });
    // Acceptor: Sta7 -Evt12-> Sta10 -Evt13-> Sta12 -Evt14-> Sta13
    s = 'Sta7';
    s = transition(s, 'Evt12', { requestor: false })!.next;
    s = transition(s, 'Evt13')!.next;
    expect(s).toBe('Sta12');
    expect(transition(s, 'Evt14')).toMatchObject({
      action: 'AR-4',
      next: 'Sta13',
      effects: ['send-a-release-rp', 'start-artim'],
    });
  });

  it('AA-3 indicates A-ABORT for a user abort and A-P-ABORT for a provider abort', () => {
    expect(transition('Sta6', 'Evt16', { userInitiatedAbort: true })?.effects).toEqual([
      'indicate-a-abort',
      'transport-close',
    ]);
    expect(transition('Sta6', 'Evt16', { userInitiatedAbort: false })?.effects).toEqual([
      'indicate-a-p-abort',
      'transport-close',
    ]);
  });

  it('AA-8 sends a provider A-ABORT, indicates A-P-ABORT and starts ARTIM', () => {
    expect(transition('Sta6', 'Evt19')?.effects).toEqual([
      'send-a-abort-provider',
      'indicate-a-p-abort',
      'start-artim',
    ]);
  });

  it('AA-1 sends a user A-ABORT and (re)starts ARTIM', () => {
    expect(transition('Sta6', 'Evt15')?.effects).toEqual(['send-a-abort-user', 'start-artim']);
  });

  it('leaves the state alone on a blank cell', () => {
    expect(transition('Sta5', 'Evt9')).toBeUndefined();
    expect(transition('Sta13', 'Evt15')).toBeUndefined();
  });
});
