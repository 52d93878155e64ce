/**
 * Waiting for Altinn's malware scan. A data element whose fileScanResult is Pending is still being
 * scanned (altinn-storage sets Pending on upload when the data type has enableFileScan, and the
 * file scan later sets Clean or Infected: src/Storage/Controllers/DataController.cs). Such an
 * instance is neither stored nor confirmed yet: a copy of its event goes back on events-inbound,
 * invisible for a while, carrying in the CloudEvent extension attribute `aosscanpendingsince`
 * when the wait began, and the invocation completes (so the wait never counts as a failed attempt
 * towards the poison queue). Once ScanWaitHours have passed since then, the invocation fails
 * loudly instead, and the queue's retries carry it to the poison queue if the scan never ends.
 * When the wait begins, the ledger learns `scanPendingSince`, so that reconciliation does not start
 * a second wait for the same instance (shared/reconcile/requeue.ts).
 */
import type { DataElement } from '../altinn/apps';
import { ledgerOf } from '../ledger';
import { errorStep, logStep } from '../log';
import { queues } from '../names';
import { fileScanResults } from './manifestEntry';
import type { InstanceEvent, Pipeline } from './pipeline';

/** CloudEvent extension attribute (lower case letters only, as CloudEvents requires) with the first Pending time. */
export const scanPendingSinceAttribute = 'aosscanpendingsince';

export class ScanWaitExceededError extends Error {
    constructor(instanceId: string, dataElementIds: string[], since: string, waitHours: number) {
        super(
            `Instance ${instanceId}: Altinn's malware scan of data element ${dataElementIds.join(', ')} is still Pending ` +
                `since ${since}, more than ScanWaitHours (${waitHours}); nothing was stored or confirmed`,
        );
        this.name = 'ScanWaitExceededError';
    }
}

/** The elements whose scan has not ended. */
export function pendingScans(elements: readonly DataElement[]): DataElement[] {
    return elements.filter((element) => element.fileScanResult === fileScanResults.pending);
}

/** Queues the event again for later, or throws once the wait is over. */
export async function waitForScan(
    { storage, config, logger }: Pipeline,
    message: InstanceEvent,
    pending: readonly DataElement[],
    now = new Date(),
): Promise<void> {
    const since = pendingSince(message, now);
    const dataElementIds = pending.map((element) => element.id);
    const fields = { ...message.fields, dataElementId: dataElementIds.join(','), pendingSince: since.toISOString() };
    if (now.getTime() - since.getTime() >= config.scanWaitMs) {
        errorStep(logger, 'scan-wait-exceeded', fields);
        throw new ScanWaitExceededError(
            message.ref.instanceId,
            dataElementIds,
            since.toISOString(),
            config.scanWaitMs / 3_600_000,
        );
    }
    if (message.event[scanPendingSinceAttribute] === undefined) {
        const ledger = ledgerOf(storage);
        await ledger.attempt(logger, 'scan-pending', message.subject, () =>
            ledger.merge(message.subject, { scanPendingSince: since }),
        );
    }
    const later = { ...message.event, [scanPendingSinceAttribute]: since.toISOString() };
    const visibleAfterSeconds = Math.max(1, Math.round(config.scanRecheckDelayMs / 1000));
    await storage.enqueue(queues.eventsInbound, later, { visibleAfterSeconds });
    logStep(logger, 'scan-pending', { ...fields, recheckInSeconds: visibleAfterSeconds });
}

/** When this event first met a Pending scan: its attribute, or now (also when the attribute is not a time). */
function pendingSince(message: InstanceEvent, now: Date): Date {
    const value = message.event[scanPendingSinceAttribute];
    const time = typeof value === 'string' ? Date.parse(value) : NaN;
    return Number.isNaN(time) || time > now.getTime() ? now : new Date(time);
}
