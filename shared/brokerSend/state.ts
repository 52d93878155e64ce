/**
 * Where a sent file is, read from Broker's overview of its transfer (FileTransferOverviewExt), in
 * this system's words (shared/ledger/sentFacts.ts SendState). The overview's recipient statuses are
 * each recipient's highest (FileTransferRepository.GetLatestRecipientFileTransferStatuses: MAX), so a
 * confirmation, once given, stays counted.
 */
import type { FileTransferOverview } from '../altinn/broker';
import type { SendState, SentRecipient } from '../ledger';

export interface TransferState {
    state: SendState;
    brokerStatus: string;
    /** The status's text; for Failed, Broker's DetailedStatus: the reason. */
    brokerStatusText?: string;
    recipients: SentRecipient[];
    confirmedRecipients: number;
}

/**
 * Failed because the upload itself broke (the stream was cut, or Broker could not store it:
 * UploadFileHandler's "File upload failed and was aborted" and "Error occurred while uploading
 * fileTransfer"): the same file may be sent again, on a new transfer, since Broker refuses a second
 * upload to a transfer that was attempted (409, Errors.FileTransferAlreadyUploaded). A checksum
 * mismatch or a malware finding would fail again, so those are final.
 */
export function isRetryableFailure(text: string | undefined): boolean {
    return text === 'Error occurred while uploading fileTransfer' || text === 'File upload failed and was aborted';
}

export function transferState(overview: FileTransferOverview, now = new Date()): TransferState {
    const recipients = overview.recipients.map((r) => ({
        recipient: r.recipient,
        status: r.currentRecipientFileTransferStatusCode,
        ...(r.currentRecipientFileTransferStatusChanged
            ? { changed: r.currentRecipientFileTransferStatusChanged }
            : {}),
    }));
    const confirmedRecipients = recipients.filter((r) => r.status.toLowerCase() === 'downloadconfirmed').length;
    const allConfirmed = recipients.length > 0 && confirmedRecipients === recipients.length;
    const text = typeof overview.fileTransferStatusText === 'string' ? overview.fileTransferStatusText : undefined;
    const expiry = typeof overview.expirationTime === 'string' ? Date.parse(overview.expirationTime) : NaN;
    const expired = expiry <= now.getTime();
    const byStatus: Record<string, SendState> = {
        initialized: 'initialized',
        uploadstarted: 'uploading',
        uploadprocessing: 'processing',
        published: allConfirmed ? 'confirmed' : 'published',
        allconfirmeddownloaded: 'confirmed',
        failed: 'failed',
        cancelled: allConfirmed ? 'confirmed' : 'deleted',
        // Purged on expiry, or earlier by Broker (a purge after every recipient confirmed keeps "confirmed").
        purged: allConfirmed ? 'confirmed' : expired ? 'expired' : 'deleted',
    };
    return {
        state: byStatus[overview.fileTransferStatus.toLowerCase()] ?? 'initialized',
        brokerStatus: overview.fileTransferStatus,
        ...(text ? { brokerStatusText: text } : {}),
        recipients,
        confirmedRecipients,
    };
}
