/**
 * Once per version. Delivery is at least once (Altinn pushes an event again, the catch-up reads
 * the same event, two hosts take copies of it at once), and a repeat must not call `complete` or
 * hand off again:
 *
 * - whether to call `complete` comes from Altinn's own document: its completeConfirmations hold
 *   one by the owner (version.ts confirmedBy);
 * - whether to hand off comes from the ledger: the version its last hand-off described;
 * - an event the ledger lists as handled to the end (stored, confirmed, handed off) is not even
 *   fetched again: the catch-up's copy of an event the webhook brought costs one table read.
 *
 * The ledger is read at most once per invocation, and only when a decision needs it: never on the
 * first delivery of a new event (which cannot be a repeat of itself, and whose document shows no
 * `complete` yet), so a new instance costs no read. A read that fails counts as "nothing known":
 * at worst a repeat is done again, never skipped wrongly. The hand-off therefore stays at least
 * once: a lost ledger write, or two processors taking copies of one event at the same moment (both
 * before either has written), may hand the same version off twice, with the same id and version.
 */
import type { Instance } from '../altinn/apps';
import { ledgerOf, maxHandledEventIds, viaOf, type LedgerEntry } from '../ledger';
import { errorMessage, logStep, warnStep } from '../log';
import type { InstanceEvent, Pipeline } from './pipeline';
import { confirmedBy } from './version';

/** What the ledger knows of one instance, read on first use. */
export interface InstanceHistory {
    entry(): Promise<LedgerEntry | undefined>;
    /** The entry when it has been read already (no read of its own); undefined otherwise. */
    peek(): LedgerEntry | undefined;
}

export function historyOf(pipeline: Pick<Pipeline, 'storage' | 'logger'>, message: InstanceEvent): InstanceHistory {
    let read: Promise<LedgerEntry | undefined> | undefined;
    let known: LedgerEntry | undefined;
    return {
        peek: () => known,
        entry() {
            read ??= ledgerOf(pipeline.storage)
                .get(message.subject)
                .catch((error: unknown) => {
                    warnStep(pipeline.logger, 'ledger-read-failed', {
                        ...message.fields,
                        error: errorMessage(error),
                        note: 'deciding as if the ledger knew nothing of the instance',
                    });
                    return undefined;
                })
                .then((entry) => (known = entry));
            return read;
        },
    };
}

/** The event may have been handled before: a retry, or a copy from the catch-up or reconciliation. */
export function mayBeRepeat(message: Pick<InstanceEvent, 'event' | 'fields'>): boolean {
    return message.fields.attempt !== 1 || viaOf(message.event) !== 'webhook';
}

/**
 * True (and logged, the one line of such an invocation) when the ledger lists this very event as
 * handled to the end. Read only for a message that may be a repeat.
 */
export async function handledBefore(
    pipeline: Pick<Pipeline, 'logger'>,
    message: InstanceEvent,
    history: InstanceHistory,
): Promise<boolean> {
    if (!mayBeRepeat(message)) return false;
    const entry = await history.entry();
    if (!entry?.confirmed || !entry.handledEventIds?.includes(message.event.id)) return false;
    logStep(pipeline.logger, 'already-done', {
        ...message.fields,
        instanceId: message.ref.instanceId,
        reason: 'this event was handled to the end before',
    });
    return true;
}

/**
 * The check storeInstance makes right after the GET: Altinn's document shows the owner's
 * `complete` and the ledger's last hand-off described this version. Logged (the one line of such
 * an invocation besides nothing) when true.
 */
export function settledBy(pipeline: Pick<Pipeline, 'logger'>, message: InstanceEvent, history: InstanceHistory) {
    return async (instance: Instance, version: string): Promise<boolean> => {
        if (!confirmedBy(instance, message.ref.org)) return false;
        const entry = await history.entry();
        if (entry?.handedOffVersion !== version) return false;
        logStep(pipeline.logger, 'already-done', {
            ...message.fields,
            instanceId: message.ref.instanceId,
            reason: 'confirmed in Altinn and this version handed off before',
            version,
        });
        return true;
    };
}

/**
 * True (and logged) when another copy of this very event stored this version of the instance, so
 * that it, not this copy, confirms and hands it off: two hosts given the same event at the same
 * moment, or the catch-up's copy read while the webhook's is still at work. instance.json is
 * created once (If-None-Match), and the one whose create lost learns from its metadata `eventid`
 * that the winner works on the same event; that winner's own retries, the confirmation queue and
 * reconciliation carry on whatever it leaves unfinished. Only on a first attempt: a retry may
 * follow this same message's own earlier store.
 */
export function storedByAnotherCopy(
    pipeline: Pick<Pipeline, 'logger'>,
    message: InstanceEvent,
    stored: { storedFor?: string; version: string },
): boolean {
    if (message.fields.attempt !== 1 || stored.storedFor !== message.event.id) return false;
    logStep(pipeline.logger, 'already-done', {
        ...message.fields,
        instanceId: message.ref.instanceId,
        reason: 'another copy of this event stored this version; it confirms and hands it off',
        version: stored.version,
    });
    return true;
}

/** The handled event ids with this one added last (once), the oldest dropped beyond the ledger's limit. */
export function withHandled(entry: LedgerEntry | undefined, eventId: string): string[] {
    const ids = (entry?.handledEventIds ?? []).filter((id) => id !== eventId);
    return [...ids, eventId].slice(-maxHandledEventIds);
}
