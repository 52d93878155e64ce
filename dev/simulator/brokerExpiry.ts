import { publishBrokerEvent } from './broker';
import { type SimCore } from './core';
import { type FileTransferRecord } from './state';
import { type CloudEvent } from './types';

/*
 * A file transfer reaching its expiry, as altinn-broker's
 * src/Altinn.Broker.Application/PurgeFileTransfer/PurgeFileTransferHandler.cs handles it with
 * PurgeTrigger.FileTransferExpiry: nothing when it is Purged already; otherwise the file is deleted, the
 * transfer becomes Purged with `no.altinn.broker.filepurged` to the sender, and every recipient whose
 * latest status is below DownloadConfirmed gets `no.altinn.broker.fileneverconfirmeddownloaded` (Role
 * Recipient, subject that recipient), followed by one to the sender when there was any. (The handler
 * also skips a transfer AllConfirmedDownloaded on a resource with PurgeFileTransferAfterAllRecipientsConfirmed;
 * the simulator's resources do not set it.)
 */

export function expireFileTransfer(core: SimCore, transfer: FileTransferRecord, deliver = true): CloudEvent[] {
    if (transfer.status === 'Purged') return [];
    const now = new Date().toISOString();
    transfer.status = 'Purged';
    transfer.statusChanged = now;
    transfer.statusHistory.push({ status: 'Purged', changed: now });
    transfer.expirationTime = now;
    const events = [publishBrokerEvent(core, transfer, 'filepurged', transfer.sender, 'Sender', deliver)];
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
