/**
 * The sender-side catch-up, on BrokerCatchUp's schedule: every transfer this system sent that has
 * not reached a final state is looked up in Broker (its overview) and followed from there
 * (follow.ts), so a missed event (a published, a downloadconfirmed, an expiry) changes nothing but
 * when it is noticed. Then, per resource, one line says how many sent files are still open and how
 * long the oldest has waited for every recipient's confirmation (step=broker-sent-run), which the
 * alert on files not confirmed within alertUnconfirmedSentHours reads.
 */
import { ledgerOf, listOpenSent, type LedgerEntry } from '../ledger';
import { errorMessage, errorStep, logStep, type StepLogger } from '../log';
import { roundHours } from '../status/ledgerPart';
import { followTransfer, isSentEntry, type FollowDeps } from './follow';

export interface SentCatchUpResult {
    followed: number;
    failed: number;
    /** Still open afterwards, per resource. */
    open: Record<string, number>;
}

export async function followOpenTransfers(deps: FollowDeps, logger: StepLogger): Promise<SentCatchUpResult> {
    const ledger = ledgerOf(deps.storage);
    const result: SentCatchUpResult = { followed: 0, failed: 0, open: {} };
    for (const entry of await listOpenSent(ledger)) {
        if (!isSentEntry(entry)) continue;
        try {
            await followTransfer(deps, logger, entry, { via: 'catchup' });
            result.followed++;
        } catch (error) {
            result.failed++;
            errorStep(logger, 'catchup-failed', {
                resourceId: entry.resourceId,
                fileTransferId: entry.id,
                role: 'sender',
                error: errorMessage(error),
            });
        }
    }
    const now = deps.now?.() ?? new Date();
    const byResource = new Map<string, LedgerEntry[]>();
    for (const entry of await listOpenSent(ledger)) {
        const resourceId = entry.resourceId ?? '';
        byResource.set(resourceId, [...(byResource.get(resourceId) ?? []), entry]);
    }
    for (const [resourceId, entries] of byResource) {
        // listOpenSent is oldest first.
        const oldest = entries[0];
        const since = oldest.sent?.initializedAt;
        result.open[resourceId] = entries.length;
        logStep(logger, 'broker-sent-run', {
            resourceId,
            unconfirmed: entries.length,
            oldestUnconfirmedHours: since ? roundHours(now.getTime() - since.getTime()) : undefined,
            oldestUnconfirmedId: oldest.id,
        });
    }
    logStep(logger, 'broker-sent-done', { followed: result.followed, failed: result.failed || undefined });
    return result;
}
