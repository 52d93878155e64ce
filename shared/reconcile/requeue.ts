/**
 * Which of the instances Storage lists as not confirmed reconciliation queues again, decided from the
 * ledger, so that an hourly run does not queue anew what is still on its way or what already failed
 * for good:
 *
 * - not in the ledger, or confirmed there (Altinn does not know it yet): queued;
 * - settled without a confirmation (shared/ledger/settled.ts): gone (Altinn answered 404 for it) or
 *   refused (an app outside AcceptedApps, its event in poison with the reason): never queued again,
 *   since no retry changes that;
 * - waiting for Altinn's malware scan (`scanPendingSince`, written when the wait begins): skipped while
 *   the wait can last (ScanWaitHours) and a little after, since that wait is a loop of its own on
 *   events-inbound and a second copy would start a second loop;
 * - in a poison queue (`poisonedAt`): queued at most once a day (counted from the poisoning or from the
 *   last time reconciliation queued it, whichever is later); `aos poison replay` is the way to retry
 *   it sooner, once the cause is fixed;
 * - anything else seen, queued, stored or failed within the last {@link inFlightMs}: skipped, it is
 *   still in a queue or retrying.
 *
 * Queuing writes `reconcileQueuedAt` (and first seen, for an instance the ledger has never seen).
 */
import type { StepLogger } from '../log';
import { firstSeenFacts, type Ledger, type LedgerEntry, type LedgerSubject } from '../ledger';

/** How long after the last sign of life an unconfirmed instance counts as on its way. */
export const inFlightMs = 3 * 3_600_000;
/** How often an instance in a poison queue is queued again by reconciliation. */
export const poisonedRequeueMs = 24 * 3_600_000;

export type SkipReason = 'in-flight' | 'scan-pending' | 'poisoned' | 'settled';

export type RequeueDecision = { queue: true } | { queue: false; reason: SkipReason };

const latest = (...dates: (Date | undefined)[]): number =>
    Math.max(...dates.map((date) => date?.getTime() ?? Number.NEGATIVE_INFINITY));

export function requeueDecision(entry: LedgerEntry | undefined, now: Date, scanWaitMs: number): RequeueDecision {
    if (!entry || entry.confirmed) return { queue: true };
    if (entry.goneAt || entry.refusedAt) return { queue: false, reason: 'settled' };
    const age = (since: number) => now.getTime() - since;
    if (entry.scanPendingSince && age(entry.scanPendingSince.getTime()) < scanWaitMs + inFlightMs) {
        return { queue: false, reason: 'scan-pending' };
    }
    if (entry.poisonedAt) {
        return age(latest(entry.poisonedAt, entry.reconcileQueuedAt)) < poisonedRequeueMs
            ? { queue: false, reason: 'poisoned' }
            : { queue: true };
    }
    const lastSign = latest(entry.firstSeenAt, entry.reconcileQueuedAt, entry.storedAt, entry.lastFailureAt);
    return age(lastSign) < inFlightMs ? { queue: false, reason: 'in-flight' } : { queue: true };
}

/** Records that reconciliation queued it (never rejects: a failed write is logged). */
export function recordQueued(
    ledger: Ledger,
    logger: StepLogger,
    subject: LedgerSubject,
    entry: LedgerEntry | undefined,
    eventId: string,
    now: Date,
): Promise<void> {
    const queued = { reconcileQueuedAt: now };
    return ledger.attempt(logger, 'reconcile-queued', subject, () =>
        entry
            ? ledger.merge(subject, queued)
            : ledger.insertFirstSeen(subject, firstSeenFacts('reconciliation', eventId), queued),
    );
}
