/**
 * The part of the status about files this system sent through Broker (the ledger's sentFile
 * entries, shared/ledger/sent.ts): per resource how many are uploading, processing, published and
 * waiting for recipients, and, within the window, confirmed by every recipient, failed or expired;
 * the oldest not yet final; and the files themselves, open ones and those that ended in the window.
 */
import { listSentSince, sentProgress, type Ledger, type LedgerEntry } from '../ledger';
import { roundHours } from './ledgerPart';
import type { SentFileStatus, SentResourceStatus } from './report';

const hourMs = 60 * 60 * 1000;

/** How many files the page lists: the open ones first (oldest first), then the latest to end. */
export const sentFilesListed = 50;

function emptyResource(resourceId: string): SentResourceStatus {
    return { resourceId, uploading: 0, processing: 0, published: 0, confirmed: 0, failed: 0, expired: 0, open: 0 };
}

function fileStatus(entry: LedgerEntry): SentFileStatus {
    const sent = entry.sent!;
    return {
        fileTransferId: entry.id,
        resourceId: entry.resourceId ?? '',
        blob: sent.blob,
        ...(sent.fileName ? { fileName: sent.fileName } : {}),
        state: sent.state,
        progress: sentProgress(sent),
        recipients: sent.recipients.length,
        confirmedRecipients: sent.confirmedRecipients,
        final: sent.final,
        ...(sent.initializedAt ? { sentAt: sent.initializedAt.toISOString() } : {}),
        ...(sent.finalAt ? { finalAt: sent.finalAt.toISOString() } : {}),
    };
}

export async function sentStatuses(
    ledger: Ledger,
    now: Date,
    windowHours: number,
): Promise<{ sentResources: SentResourceStatus[]; sentFiles: SentFileStatus[] }> {
    const since = new Date(now.getTime() - windowHours * hourMs);
    const entries = (await listSentSince(ledger, since)).filter((entry) => entry.sent);
    const byResource = new Map<string, SentResourceStatus>();
    const open = entries
        .filter((entry) => !entry.sent!.final)
        .sort((a, b) => (a.sent!.initializedAt?.getTime() ?? 0) - (b.sent!.initializedAt?.getTime() ?? 0));
    for (const entry of entries) {
        const resourceId = entry.resourceId ?? '';
        let status = byResource.get(resourceId);
        if (!status) byResource.set(resourceId, (status = emptyResource(resourceId)));
        const { state, final } = entry.sent!;
        if (state === 'initialized' || state === 'uploading') status.uploading++;
        else if (state === 'processing') status.processing++;
        else if (state === 'published') status.published++;
        else if (state === 'confirmed') status.confirmed++;
        else if (state === 'failed') status.failed++;
        else if (state === 'expired' || state === 'deleted') status.expired++;
        if (!final) status.open++;
    }
    // Oldest first, so the first open entry of a resource is its oldest.
    for (const entry of open) {
        const status = byResource.get(entry.resourceId ?? '')!;
        if (status.oldestOpenHours === undefined && entry.sent!.initializedAt) {
            status.oldestOpenHours = roundHours(now.getTime() - entry.sent!.initializedAt.getTime());
            status.oldestOpenId = entry.id;
        }
    }
    const ended = entries
        .filter((entry) => entry.sent!.final)
        .sort((a, b) => (b.sent!.finalAt?.getTime() ?? 0) - (a.sent!.finalAt?.getTime() ?? 0));
    return {
        sentResources: [...byResource.values()].sort((a, b) => a.resourceId.localeCompare(b.resourceId)),
        sentFiles: [...open, ...ended].slice(0, sentFilesListed).map(fileStatus),
    };
}
