/**
 * Two facts that settle an instance without a confirmation, so that it leaves the not-confirmed
 * count (Ledger.listUnconfirmed) and is counted on its own (status/settledPart.ts):
 * - gone: Altinn answered 404 for the instance (deleted, or purged before we got to it): there is
 *   nothing left to store or confirm, and no retry will change that;
 * - refused: the instance belongs to an app outside AcceptedApps; its event is in the poison
 *   queue with the reason (shared/refusal.ts), and the entry keeps the reason, personal data
 *   redacted (as the last failure's text is).
 * Like every ledger write these are merges that never fail a stage.
 */
import type { StepLogger } from '../log';
import { redactPersonalData } from '../redact';
import type { LedgerSubject } from './keys';
import type { Ledger } from './ledger';

/** The ledger keeps a reason this long at most (a table property holds 64 KiB). */
const maxReasonChars = 2_000;

export function recordGone(ledger: Ledger, logger: StepLogger, subject: LedgerSubject): Promise<void> {
    return ledger.attempt(logger, 'gone', subject, () => ledger.merge(subject, { goneAt: new Date() }));
}

export function recordRefused(ledger: Ledger, logger: StepLogger, subject: LedgerSubject, reason: string) {
    const now = new Date();
    return ledger.attempt(logger, 'refused', subject, () =>
        ledger.merge(subject, {
            refusedAt: now,
            refusedReason: redactPersonalData(reason).slice(0, maxReasonChars),
            poisonedAt: now,
        }),
    );
}
