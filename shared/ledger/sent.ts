/**
 * The ledger's entries of files this system sent through Broker (kind `sentFile`, partition
 * `sentFile:{resourceId}`, row key the file transfer id), and the two questions asked of them:
 * which transfers are still open (the sender-side catch-up follows them), and which the status page
 * shows (open ones, and those that ended within its window).
 */
import { odata } from '@azure/data-tables';
import type { StepLogger } from '../log';
import { partitionRangeOf, type LedgerSubject } from './keys';
import type { Ledger, LedgerEntry } from './ledger';
import { sentProperties, type SentFacts } from './sentFacts';

export function sentFileSubject(resourceId: string, fileTransferId: string): LedgerSubject {
    return { kind: 'sentFile', resourceId, fileTransferId: fileTransferId.toLowerCase() };
}

/**
 * Records a new transfer before anything is uploaded to it, and fails when it cannot: the entry is
 * what the sender-side catch-up and the status page follow, so an upload must never start without it.
 */
export async function recordSentStrictly(
    ledger: Ledger,
    subject: LedgerSubject,
    facts: Partial<SentFacts>,
): Promise<void> {
    await ledger.ensureTable();
    await ledger.merge(subject, { confirmed: false, ...sentProperties(facts) });
}

/** Merges facts into a sent entry; like every ledger write it never fails the caller (it is logged). */
export function recordSent(
    ledger: Ledger,
    logger: StepLogger,
    subject: LedgerSubject,
    facts: Partial<SentFacts>,
    extra: Record<string, unknown> = {},
): Promise<void> {
    return ledger.attempt(logger, `sent-${facts.state ?? 'facts'}`, subject, () =>
        ledger.merge(subject, { ...sentProperties(facts), ...extra }),
    );
}

function sentRange(): string {
    const { from, to } = partitionRangeOf('sentFile');
    return odata`PartitionKey ge ${from} and PartitionKey lt ${to}`;
}

/** Sent files not in a final state, oldest first. */
export async function listOpenSent(ledger: Ledger): Promise<LedgerEntry[]> {
    const entries = await ledger.list(`${sentRange()} and final eq false`);
    return entries.sort((a, b) => (a.sent?.initializedAt?.getTime() ?? 0) - (b.sent?.initializedAt?.getTime() ?? 0));
}

/** Sent files still open, or final at or after `since`: what the status page lists. */
export function listSentSince(ledger: Ledger, since: Date): Promise<LedgerEntry[]> {
    return ledger.list(`${sentRange()} and (final eq false or finalAt ge ${odata`${since}`})`);
}
