/**
 * The DICOM upper layer protocol state machine of PS3.8 §9.2, written as data:
 * the states of Table 9-1..9-5 (PS3.8 §9.2.1), the events and the state
 * transition table of Table 9-10, and the actions of Tables 9-6..9-9 with the
 * standard's names. {@link transition} is pure: timers and I/O are the
 * caller's business, driven by the {@link Effect}s the transition lists.
 */

/** The states of PS3.8 §9.2.1 (Table 9-10 columns). */
export const State = {
  /** Idle. */
  Sta1: 'Sta1',
  /** Transport connection open (awaiting A-ASSOCIATE-RQ PDU). */
  Sta2: 'Sta2',
  /** Awaiting local A-ASSOCIATE response primitive (from local user). */
  Sta3: 'Sta3',
  /** Awaiting transport connection opening to complete (from local transport service). */
  Sta4: 'Sta4',
  /** Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU. */
  Sta5: 'Sta5',
  /** Association established and ready for data transfer. */
  Sta6: 'Sta6',
  /** Awaiting A-RELEASE-RP PDU. */
  Sta7: 'Sta7',
  /** Awaiting local A-RELEASE response primitive (from local user). */
  Sta8: 'Sta8',
  /** Release collision requestor side; awaiting A-RELEASE response (from local user). */
  Sta9: 'Sta9',
  /** Release collision acceptor side; awaiting A-RELEASE-RP PDU. */
  Sta10: 'Sta10',
  /** Release collision requestor side; awaiting A-RELEASE-RP PDU. */
  Sta11: 'Sta11',
  /** Release collision acceptor side; awaiting A-RELEASE response primitive (from local user). */
  Sta12: 'Sta12',
  /** Awaiting transport connection close indication (association no longer exists). */
  Sta13: 'Sta13',
} as const;
/** One of the states Sta1..Sta13. */
export type State = (typeof State)[keyof typeof State];

/** The states in the standard's order. */
export const states: readonly State[] = Object.values(State);

/** What each state means, in the words of PS3.8 §9.2.1. */
export const stateDescriptions: Readonly<Record<State, string>> = {
  Sta1: 'Idle',
  Sta2: 'Transport connection open (Awaiting A-ASSOCIATE-RQ PDU)',
  Sta3: 'Awaiting local A-ASSOCIATE response primitive (from local user)',
  Sta4: 'Awaiting transport connection opening to complete (from local transport service)',
  Sta5: 'Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU',
  Sta6: 'Association established and ready for data transfer',
  Sta7: 'Awaiting A-RELEASE-RP PDU',
  Sta8: 'Awaiting local A-RELEASE response primitive (from local user)',
  Sta9: 'Release collision requestor side; awaiting A-RELEASE response (from local user)',
  Sta10: 'Release collision acceptor side; awaiting A-RELEASE-RP PDU',
  Sta11: 'Release collision requestor side; awaiting A-RELEASE-RP PDU',
  Sta12: 'Release collision acceptor side; awaiting A-RELEASE response primitive (from local user)',
  Sta13: 'Awaiting Transport Connection Close Indication (Association no longer exists)',
};

/** The events of PS3.8 Table 9-10 (rows). */
export const Event = {
  /** A-ASSOCIATE request (local user). */
  Evt1: 'Evt1',
  /** Transport connect confirmation (local transport service). */
  Evt2: 'Evt2',
  /** A-ASSOCIATE-AC PDU (received on transport connection). */
  Evt3: 'Evt3',
  /** A-ASSOCIATE-RJ PDU (received on transport connection). */
  Evt4: 'Evt4',
  /** Transport connection indication (local transport service). */
  Evt5: 'Evt5',
  /** A-ASSOCIATE-RQ PDU (received on transport connection). */
  Evt6: 'Evt6',
  /** A-ASSOCIATE response primitive (accept). */
  Evt7: 'Evt7',
  /** A-ASSOCIATE response primitive (reject). */
  Evt8: 'Evt8',
  /** P-DATA request primitive. */
  Evt9: 'Evt9',
  /** P-DATA-TF PDU. */
  Evt10: 'Evt10',
  /** A-RELEASE request primitive. */
  Evt11: 'Evt11',
  /** A-RELEASE-RQ PDU (received on open transport connection). */
  Evt12: 'Evt12',
  /** A-RELEASE-RP PDU (received on transport connection). */
  Evt13: 'Evt13',
  /** A-RELEASE response primitive. */
  Evt14: 'Evt14',
  /** A-ABORT request primitive. */
  Evt15: 'Evt15',
  /** A-ABORT PDU (received on open transport connection). */
  Evt16: 'Evt16',
  /** Transport connection closed indication (local transport service). */
  Evt17: 'Evt17',
  /** ARTIM timer expired (Association reject/release timer). */
  Evt18: 'Evt18',
  /** Unrecognized or invalid PDU received. */
  Evt19: 'Evt19',
} as const;
/** One of the events Evt1..Evt19. */
export type Event = (typeof Event)[keyof typeof Event];

/** The events in the standard's order. */
export const events: readonly Event[] = Object.values(Event);

/** What each event means, in the words of PS3.8 Table 9-10. */
export const eventDescriptions: Readonly<Record<Event, string>> = {
  Evt1: 'A-ASSOCIATE request (local user)',
  Evt2: 'Transport connect confirmation (local transport service)',
  Evt3: 'A-ASSOCIATE-AC PDU (received on transport connection)',
  Evt4: 'A-ASSOCIATE-RJ PDU (received on transport connection)',
  Evt5: 'Transport connection indication (local transport service)',
  Evt6: 'A-ASSOCIATE-RQ PDU (received on transport connection)',
  Evt7: 'A-ASSOCIATE response primitive (accept)',
  Evt8: 'A-ASSOCIATE response primitive (reject)',
  Evt9: 'P-DATA request primitive',
  Evt10: 'P-DATA-TF PDU',
  Evt11: 'A-RELEASE request primitive',
  Evt12: 'A-RELEASE-RQ PDU (received on open transport connection)',
  Evt13: 'A-RELEASE-RP PDU (received on transport connection)',
  Evt14: 'A-RELEASE response primitive',
  Evt15: 'A-ABORT request primitive',
  Evt16: 'A-ABORT PDU (received on open transport connection)',
  Evt17: 'Transport connection closed indication (local transport service)',
  Evt18: 'ARTIM timer expired (Association reject/release timer)',
  Evt19: 'Unrecognized or invalid PDU received',
};

/** The actions of PS3.8 Tables 9-6 (AE), 9-7 (DT), 9-8 (AR) and 9-9 (AA). */
export const Action = {
  /** Issue TRANSPORT CONNECT request primitive to local transport service. */
  AE_1: 'AE-1',
  /** Send A-ASSOCIATE-RQ-PDU. */
  AE_2: 'AE-2',
  /** Issue A-ASSOCIATE confirmation (accept) primitive. */
  AE_3: 'AE-3',
  /** Issue A-ASSOCIATE confirmation (reject) primitive and close transport connection. */
  AE_4: 'AE-4',
  /** Issue Transport connection response primitive; start ARTIM timer. */
  AE_5: 'AE-5',
  /** Stop ARTIM timer; if the A-ASSOCIATE-RQ is acceptable issue A-ASSOCIATE indication, otherwise send A-ASSOCIATE-RJ and start ARTIM. */
  AE_6: 'AE-6',
  /** Send A-ASSOCIATE-AC PDU. */
  AE_7: 'AE-7',
  /** Send A-ASSOCIATE-RJ PDU and start ARTIM timer. */
  AE_8: 'AE-8',
  /** Send P-DATA-TF PDU. */
  DT_1: 'DT-1',
  /** Send P-DATA indication primitive. */
  DT_2: 'DT-2',
  /** Send A-RELEASE-RQ PDU. */
  AR_1: 'AR-1',
  /** Issue A-RELEASE indication primitive. */
  AR_2: 'AR-2',
  /** Issue A-RELEASE confirmation primitive, and close transport connection. */
  AR_3: 'AR-3',
  /** Issue A-RELEASE-RP PDU and start ARTIM timer. */
  AR_4: 'AR-4',
  /** Stop ARTIM timer. */
  AR_5: 'AR-5',
  /** Issue P-DATA indication. */
  AR_6: 'AR-6',
  /** Issue P-DATA-TF PDU. */
  AR_7: 'AR-7',
  /** Issue A-RELEASE indication (release collision); next state Sta9 for the requestor, Sta10 for the acceptor. */
  AR_8: 'AR-8',
  /** Send A-RELEASE-RP PDU. */
  AR_9: 'AR-9',
  /** Issue A-RELEASE confirmation primitive. */
  AR_10: 'AR-10',
  /** Send A-ABORT PDU (service-user source) and start (or restart if already started) ARTIM timer. */
  AA_1: 'AA-1',
  /** Stop ARTIM timer if running. Close transport connection. */
  AA_2: 'AA-2',
  /** Issue A-ABORT (service-user source) or A-P-ABORT (service-provider source) indication and close transport connection. */
  AA_3: 'AA-3',
  /** Issue A-P-ABORT indication primitive. */
  AA_4: 'AA-4',
  /** Stop ARTIM timer. */
  AA_5: 'AA-5',
  /** Ignore PDU. */
  AA_6: 'AA-6',
  /** Send A-ABORT PDU. */
  AA_7: 'AA-7',
  /** Send A-ABORT PDU (service-provider source), issue an A-P-ABORT indication, and start ARTIM timer. */
  AA_8: 'AA-8',
} as const;
/** One of the action names AE-1..AA-8. */
export type Action = (typeof Action)[keyof typeof Action];

/** The actions in the standard's order. */
export const actions: readonly Action[] = Object.values(Action);

/**
 * One side effect the driver of the state machine performs for an action.
 * Sends name the PDU; `indicate-*` and `confirm-*` are primitives handed to
 * the local user; ARTIM is the timer of PS3.8 §9.1.5.
 */
export type Effect =
  | 'transport-connect'
  | 'transport-respond'
  | 'transport-close'
  | 'send-a-associate-rq'
  | 'send-a-associate-ac'
  | 'send-a-associate-rj'
  | 'send-p-data-tf'
  | 'send-a-release-rq'
  | 'send-a-release-rp'
  | 'send-a-abort-user'
  | 'send-a-abort-provider'
  | 'indicate-a-associate'
  | 'confirm-a-associate-accept'
  | 'confirm-a-associate-reject'
  | 'indicate-p-data'
  | 'indicate-a-release'
  | 'indicate-a-release-collision'
  | 'confirm-a-release'
  | 'indicate-a-abort'
  | 'indicate-a-p-abort'
  | 'start-artim'
  | 'stop-artim'
  | 'ignore-pdu';

/**
 * Facts the pure transition needs for the three actions whose outcome
 * depends on more than state and event.
 */
export interface TransitionContext {
  /** AE-6: whether the A-ASSOCIATE-RQ is acceptable by the service provider (default true). */
  acceptable?: boolean;
  /** AR-8: whether the local side is the association-requestor (Sta9) or the acceptor (Sta10). */
  requestor?: boolean;
  /** AA-3: whether the received A-ABORT came from the service user (source 0) or the provider (source 2). */
  userInitiatedAbort?: boolean;
}

/** The outcome of one state x event pair. */
export interface Transition {
  /** The action of Table 9-10. */
  action: Action;
  /** The state after the action. */
  next: State;
  /** What the driver must do, in order. */
  effects: readonly Effect[];
}

/**
 * PS3.8 Table 9-10, the state transition table: for each state, the action of
 * each event. A missing cell is a blank in the standard (the event cannot
 * happen in that state, or a local primitive the user may not issue there).
 */
export const transitionTable: Readonly<Record<State, Readonly<Partial<Record<Event, Action>>>>> = {
  Sta1: { Evt1: 'AE-1', Evt5: 'AE-5' },
  Sta2: {
    Evt3: 'AA-1',
    Evt4: 'AA-1',
    Evt6: 'AE-6',
    Evt10: 'AA-1',
    Evt12: 'AA-1',
    Evt13: 'AA-1',
    Evt16: 'AA-2',
    Evt17: 'AA-5',
    Evt18: 'AA-2',
    Evt19: 'AA-1',
  },
  Sta3: {
    Evt3: 'AA-8',
    Evt4: 'AA-8',
    Evt6: 'AA-8',
    Evt7: 'AE-7',
    Evt8: 'AE-8',
    Evt10: 'AA-8',
    Evt12: 'AA-8',
    Evt13: 'AA-8',
    Evt15: 'AA-1',
    Evt16: 'AA-3',
    Evt17: 'AA-4',
    Evt19: 'AA-8',
  },
  Sta4: { Evt2: 'AE-2', Evt15: 'AA-2', Evt17: 'AA-4' },
  Sta5: {
    Evt3: 'AE-3',
    Evt4: 'AE-4',
    Evt6: 'AA-8',
    Evt10: 'AA-8',
    Evt12: 'AA-8',
    Evt13: 'AA-8',
    Evt15: 'AA-1',
    Evt16: 'AA-3',
    Evt17: 'AA-4',
    Evt19: 'AA-8',
  },
  Sta6: {
    Evt3: 'AA-8',
    Evt4: 'AA-8',
    Evt6: 'AA-8',
    Evt9: 'DT-1',
    Evt10: 'DT-2',
    Evt11: 'AR-1',
    Evt12: 'AR-2',
    Evt13: 'AA-8',
    Evt15: 'AA-1',
    Evt16: 'AA-3',
    Evt17: 'AA-4',
    Evt19: 'AA-8',
  },
  Sta7: {
    Evt3: 'AA-8',
    Evt4: 'AA-8',
    Evt6: 'AA-8',
    Evt10: 'AR-6',
    Evt12: 'AR-8',
    Evt13: 'AR-3',
    Evt15: 'AA-1',
    Evt16: 'AA-3',
    Evt17: 'AA-4',
    Evt19: 'AA-8',
  },
  Sta8: {
    Evt3: 'AA-8',
    Evt4: 'AA-8',
    Evt6: 'AA-8',
    Evt9: 'AR-7',
    Evt10: 'AA-8',
    Evt12: 'AA-8',
    Evt13: 'AA-8',
    Evt14: 'AR-4',
    Evt15: 'AA-1',
    Evt16: 'AA-3',
    Evt17: 'AA-4',
    Evt19: 'AA-8',
  },
  Sta9: {
    Evt3: 'AA-8',
    Evt4: 'AA-8',
    Evt6: 'AA-8',
    Evt10: 'AA-8',
    Evt12: 'AA-8',
    Evt13: 'AA-8',
    Evt14: 'AR-9',
    Evt15: 'AA-1',
    Evt16: 'AA-3',
    Evt17: 'AA-4',
    Evt19: 'AA-8',
  },
  Sta10: {
    Evt3: 'AA-8',
    Evt4: 'AA-8',
    Evt6: 'AA-8',
    Evt10: 'AA-8',
    Evt12: 'AA-8',
    Evt13: 'AR-10',
    Evt15: 'AA-1',
    Evt16: 'AA-3',
    Evt17: 'AA-4',
    Evt19: 'AA-8',
  },
  Sta11: {
    Evt3: 'AA-8',
    Evt4: 'AA-8',
    Evt6: 'AA-8',
    Evt10: 'AA-8',
    Evt12: 'AA-8',
    Evt13: 'AR-3',
    Evt15: 'AA-1',
    Evt16: 'AA-3',
    Evt17: 'AA-4',
    Evt19: 'AA-8',
  },
  Sta12: {
    Evt3: 'AA-8',
    Evt4: 'AA-8',
    Evt6: 'AA-8',
    Evt10: 'AA-8',
    Evt12: 'AA-8',
    Evt13: 'AA-8',
    Evt14: 'AR-4',
    Evt15: 'AA-1',
    Evt16: 'AA-3',
    Evt17: 'AA-4',
    Evt19: 'AA-8',
  },
  Sta13: {
    Evt3: 'AA-6',
    Evt4: 'AA-6',
    Evt6: 'AA-7',
    Evt10: 'AA-6',
    Evt12: 'AA-6',
    Evt13: 'AA-6',
    Evt16: 'AA-2',
    Evt17: 'AR-5',
    Evt18: 'AA-2',
    Evt19: 'AA-7',
  },
};

/** Effects and next state of each action (PS3.8 Tables 9-6..9-9). */
function perform(action: Action, ctx: TransitionContext): { next: State; effects: Effect[] } {
  switch (action) {
    case 'AE-1':
      return { next: 'Sta4', effects: ['transport-connect'] };
    case 'AE-2':
      return { next: 'Sta5', effects: ['send-a-associate-rq'] };
    case 'AE-3':
      return { next: 'Sta6', effects: ['confirm-a-associate-accept'] };
    case 'AE-4':
      return { next: 'Sta1', effects: ['confirm-a-associate-reject', 'transport-close'] };
    case 'AE-5':
      return { next: 'Sta2', effects: ['transport-respond', 'start-artim'] };
    case 'AE-6':
      return ctx.acceptable === false
        ? { next: 'Sta13', effects: ['stop-artim', 'send-a-associate-rj', 'start-artim'] }
        : { next: 'Sta3', effects: ['stop-artim', 'indicate-a-associate'] };
    case 'AE-7':
      return { next: 'Sta6', effects: ['send-a-associate-ac'] };
    case 'AE-8':
      return { next: 'Sta13', effects: ['send-a-associate-rj', 'start-artim'] };
    case 'DT-1':
      return { next: 'Sta6', effects: ['send-p-data-tf'] };
    case 'DT-2':
      return { next: 'Sta6', effects: ['indicate-p-data'] };
    case 'AR-1':
      return { next: 'Sta7', effects: ['send-a-release-rq'] };
    case 'AR-2':
      return { next: 'Sta8', effects: ['indicate-a-release'] };
    case 'AR-3':
      return { next: 'Sta1', effects: ['confirm-a-release', 'transport-close'] };
    case 'AR-4':
      return { next: 'Sta13', effects: ['send-a-release-rp', 'start-artim'] };
    case 'AR-5':
      return { next: 'Sta1', effects: ['stop-artim'] };
    case 'AR-6':
      return { next: 'Sta7', effects: ['indicate-p-data'] };
    case 'AR-7':
      return { next: 'Sta8', effects: ['send-p-data-tf'] };
    case 'AR-8':
      return {
        next: ctx.requestor ? 'Sta9' : 'Sta10',
        effects: ['indicate-a-release-collision'],
      };
    case 'AR-9':
      return { next: 'Sta11', effects: ['send-a-release-rp'] };
    case 'AR-10':
      return { next: 'Sta12', effects: ['confirm-a-release'] };
    case 'AA-1':
      return { next: 'Sta13', effects: ['send-a-abort-user', 'start-artim'] };
    case 'AA-2':
      return { next: 'Sta1', effects: ['stop-artim', 'transport-close'] };
    case 'AA-3':
      return {
        next: 'Sta1',
        effects: [
          ctx.userInitiatedAbort ? 'indicate-a-abort' : 'indicate-a-p-abort',
          'transport-close',
        ],
      };
    case 'AA-4':
      return { next: 'Sta1', effects: ['indicate-a-p-abort'] };
    case 'AA-5':
      return { next: 'Sta1', effects: ['stop-artim'] };
    case 'AA-6':
      return { next: 'Sta13', effects: ['ignore-pdu'] };
    case 'AA-7':
      return { next: 'Sta13', effects: ['send-a-abort-provider'] };
    case 'AA-8':
      return {
        next: 'Sta13',
        effects: ['send-a-abort-provider', 'indicate-a-p-abort', 'start-artim'],
      };
  }
}

/**
 * The pure transition function of PS3.8 §9.2.3: looks the pair up in Table
 * 9-10 and returns the action, the next state and the effects to perform.
 * Returns `undefined` for a blank cell (the caller rejects the local
 * primitive, or treats the event as impossible); the state is then unchanged.
 *
 * @example
 * ```ts
 * transition('Sta6', 'Evt13'); // { action: 'AA-8', next: 'Sta13', effects: [...] }
 * ```
 */
export function transition(
  state: State,
  event: Event,
  context: TransitionContext = {},
): Transition | undefined {
  const action = transitionTable[state][event];
  if (action === undefined) return undefined;
  const { next, effects } = perform(action, context);
  return { action, next, effects };
}
