/**
 * The instances-received message of a confirmed Broker file: its one element is the file, its
 * describing document filetransfer.json (the overview as Broker returned it). The file blob's
 * properties give what the overview does not: the stored content type and the SHA-256 computed
 * while the file streamed in (metadata `sha256`).
 */
import type { FileTransferOverview } from '../altinn/broker';
import { fileBlobName, overviewBlobName } from '../broker/layout';
import type { StepLogger } from '../log';
import { containers } from '../names';
import type { Storage } from '../storage';
import { handOff, type BrokerFileReceived } from './message';

export interface StoredBrokerFile {
    resourceId: string;
    fileTransferId: string;
    overview: Pick<FileTransferOverview, 'fileName' | 'fileTransferSize' | 'sender'>;
    /** When the file was stored: filetransfer.json's creation. */
    receivedAt: string;
    /** The file blob's content type and metadata. */
    contentType?: string;
    metadata?: Record<string, string>;
}

export function brokerFileReceived(file: StoredBrokerFile): BrokerFileReceived {
    const { resourceId, fileTransferId, overview } = file;
    const sha256 = file.metadata?.sha256;
    return {
        kind: 'brokerFile',
        fileTransferId,
        org: overview.sender ?? null,
        resourceId,
        receivedAt: file.receivedAt,
        container: containers.broker,
        instanceBlob: overviewBlobName(resourceId, fileTransferId),
        manifestBlob: null,
        elements: [
            {
                id: fileTransferId,
                blob: fileBlobName(resourceId, fileTransferId, overview.fileName),
                sha256: sha256 && /^[0-9a-f]{64}$/.test(sha256) ? sha256 : null,
                size: overview.fileTransferSize,
                contentType: file.contentType || 'application/octet-stream',
                filename: overview.fileName,
                quarantined: false,
            },
        ],
    };
}

/** Reads what the message needs from the stored blobs (two property reads) and hands the file off. */
export async function handOffBrokerFile(
    storage: Storage,
    logger: StepLogger,
    fields: { eventId: string; resourceId: string; fileTransferId: string },
    overview: StoredBrokerFile['overview'],
): Promise<void> {
    const { resourceId, fileTransferId } = fields;
    const container = storage.container(containers.broker);
    const [file, described] = await Promise.all([
        container.getBlobClient(fileBlobName(resourceId, fileTransferId, overview.fileName)).getProperties(),
        container.getBlobClient(overviewBlobName(resourceId, fileTransferId)).getProperties(),
    ]);
    const message = brokerFileReceived({
        resourceId,
        fileTransferId,
        overview,
        // Its creation, not its last change: confirming sets metadata on it, and repeats must carry the same time.
        receivedAt: (described.createdOn ?? described.lastModified ?? new Date()).toISOString(),
        contentType: file.contentType,
        metadata: file.metadata,
    });
    await handOff(storage, message, logger, fields);
}
