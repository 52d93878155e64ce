import { rmSync } from 'node:fs';
import { publishBrokerEvent, setTransferStatus } from './broker';
import { type SimCore } from './core';
import { type FileTransferRecord } from './state';
import { type CloudEvent } from './types';

/*
 * A file transfer purged, as altinn-broker's
 * src/Altinn.Broker.Application/PurgeFileTransfer/PurgeFileTransferHandler.cs does it: nothing when it is
 * Purged already; otherwise the file is deleted and, unless the trigger is a failed malware scan, the
 * transfer becomes Purged with `no.altinn.broker.filepurged` to the sender; then every recipient whose
 * latest status is below DownloadConfirmed gets `no.altinn.broker.fileneverconfirmeddownloaded` (Role
 * Recipient, subject that recipient), followed by one to the sender when there was any, whatever the
 * trigger. (On expiry the handler also skips a transfer AllConfirmedDownloaded on a resource with
 * PurgeFileTransferAfterAllRecipientsConfirmed; the simulator's resources do not set it.)
 */

export type PurgeTrigger = 'FileTransferExpiry' | 'MalwareScanFailed';

export function purgeFileTransfer(
    core: SimCore,
    transfer: FileTransferRecord,
    trigger: PurgeTrigger,
    deliver = true,
): CloudEvent[] {
    if (transfer.status === 'Purged') return [];
    if (transfer.content?.kind === 'file') rmSync(transfer.content.path, { force: true });
    const events: CloudEvent[] = [];
    if (trigger !== 'MalwareScanFailed') {
        setTransferStatus(transfer, 'Purged');
        events.push(publishBrokerEvent(core, transfer, 'filepurged', transfer.sender, 'Sender', deliver));
    }
    // RecipientRecord.status is the highest status reached (MAX(status)), as RecipientCurrentStatuses reads it.
    const unconfirmed = transfer.recipients.filter((r) => r.status !== 'DownloadConfirmed');
    for (const r of unconfirmed) {
        events.push(
            publishBrokerEvent(core, transfer, 'fileneverconfirmeddownloaded', r.recipient, 'Recipient', deliver),
        );
    }
    if (unconfirmed.length > 0) {
        events.push(
            publishBrokerEvent(core, transfer, 'fileneverconfirmeddownloaded', transfer.sender, 'Sender', deliver),
        );
    }
    return events;
}

/** The transfer reaches its expiry now: the purge job InitializeFileTransferHandler scheduled for its expiration time. */
export function expireFileTransfer(core: SimCore, transfer: FileTransferRecord, deliver = true): CloudEvent[] {
    if (transfer.status === 'Purged') return [];
    transfer.expirationTime = new Date().toISOString();
    return purgeFileTransfer(core, transfer, 'FileTransferExpiry', deliver);
}
