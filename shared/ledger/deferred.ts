/**
 * A ledger writer that holds first seen, stored, confirmed and handed off (and the other facts of
 * an instance) of one invocation's subject and writes them at its end (`flush`) in one request: for
 * a new instance that EventsProcessor stores and confirms in one invocation, the whole story is one insert instead of an insert and two merges.
 * Each fact keeps the time it was learnt. When the entry exists already (a repeat, or an earlier
 * attempt recorded a failure), the flush falls back to the insert-then-merge of the plain writer, so
 * first seen never moves. Failures and poisoning are written at once, as the plain writer does.
 *
 * The cost is that the ledger learns of an instance when its invocation ends rather than when it
 * starts: an invocation that is killed midway leaves no entry, and the queue's redelivery (which
 * keeps the message, so nothing is lost) writes it. The caller flushes in `finally`, so a failed
 * attempt still records first seen (and stored, when storing succeeded) before the failure is.
 */
import type { StepLogger } from '../log';
import { idOf, type LedgerSubject } from './keys';
import {
    confirmedFacts,
    firstSeenFacts,
    handedOffFacts,
    handledFacts,
    notEndedFacts,
    storedFacts,
    type FirstSeenFacts,
    type Ledger,
    type LedgerWriter,
} from './ledger';

export interface DeferredLedgerWriter extends LedgerWriter {
    /** Writes what is held (never rejects; a failure is logged); afterwards the writer holds nothing. */
    flush(): Promise<void>;
    /** Forgets what is held: the invocation found nothing to record (a repeat of what the entry already says). */
    discard(): void;
}

interface Held {
    subject: LedgerSubject;
    firstSeen?: FirstSeenFacts;
    /** The later facts (stored, confirmed, handed off, …), merged into one set of properties. */
    later: Record<string, unknown>;
    facts: Set<string>;
}

export function deferredWriter(ledger: Ledger, logger: StepLogger): DeferredLedgerWriter {
    const now = ledger.writer(logger);
    let held: Held | undefined;
    /** The held entry to add a fact to; undefined for another subject, which is written at once. */
    const hold = (subject: LedgerSubject, fact: string): Held | undefined => {
        held ??= { subject, later: {}, facts: new Set() };
        if (held.subject.kind !== subject.kind || idOf(held.subject) !== idOf(subject)) return undefined;
        held.facts.add(fact);
        return held;
    };
    /** Adds a later fact's properties to the held entry; one of another subject is written at once. */
    const holdLater = (
        subject: LedgerSubject,
        fact: string,
        properties: Record<string, unknown>,
        writeNow: () => Promise<void>,
    ): Promise<void> => {
        const entry = hold(subject, fact);
        if (!entry) return writeNow();
        Object.assign(entry.later, properties);
        return Promise.resolve();
    };
    return {
        ...now,
        firstSeen: (subject, via, eventId) => {
            const entry = hold(subject, 'first-seen');
            if (!entry) return now.firstSeen(subject, via, eventId);
            entry.firstSeen ??= firstSeenFacts(via, eventId);
            return Promise.resolve();
        },
        stored: (subject, facts) => holdLater(subject, 'stored', storedFacts(facts), () => now.stored(subject, facts)),
        confirmed: (subject) => holdLater(subject, 'confirmed', confirmedFacts(), () => now.confirmed(subject)),
        handedOff: (subject, version) =>
            holdLater(subject, 'handed-off', handedOffFacts(version), () => now.handedOff(subject, version)),
        handled: (subject, eventIds) =>
            holdLater(subject, 'handled', handledFacts(eventIds), () => now.handled(subject, eventIds)),
        notEnded: (subject, facts) =>
            holdLater(subject, 'not-ended', notEndedFacts(facts), () => now.notEnded(subject, facts)),
        discard: () => {
            held = undefined;
        },
        flush: () => {
            const entry = held;
            held = undefined;
            if (!entry) return Promise.resolve();
            const { subject, firstSeen, later } = entry;
            return ledger.attempt(logger, [...entry.facts].join('+'), subject, () =>
                firstSeen ? ledger.insertFirstSeen(subject, firstSeen, later) : ledger.merge(subject, later),
            );
        },
    };
}
