/**
 * The outbox: container broker-outbound, where a case system (or `aos broker send`) puts each file
 * it sends. The file's blob metadata is the request's own record, written before anything that
 * cannot be undone, each write conditional on the blob's ETag so that two attempts at one request
 * (a message delivered twice, two hosts) can never both go ahead:
 *
 * - `sendclaimed`: when an attempt began to initialize a transfer (ISO time), before it asked Broker;
 * - `filetransferid`: the transfer Broker created for it, before anything is uploaded;
 * - `previoustransfers`: transfers whose upload broke and that a new transfer replaced.
 */
import type { Readable } from 'node:stream';
import { RestError, type BlockBlobClient } from '@azure/storage-blob';
import { containers } from '../names';
import type { Storage } from '../storage';
import { md5Stream } from './md5Stream';

export const outboxMetadata = {
    claimed: 'sendclaimed',
    fileTransferId: 'filetransferid',
    previous: 'previoustransfers',
} as const;

export interface OutboxFile {
    blob: BlockBlobClient;
    etag: string;
    size: number;
    /** The blob's Content-MD5 as lowercase hex, when storage has one. */
    contentMd5?: string;
    metadata: Record<string, string>;
}

/** The send request names a blob that is not (yet) in broker-outbound; the queue tries again. */
export class OutboxFileMissingError extends Error {
    readonly transient = true;
    constructor(blob: string) {
        super(`${containers.brokerOutbound}/${blob} does not exist: put the file there before its send request`);
        this.name = 'OutboxFileMissingError';
    }
}

/** Another attempt at the same request changed the blob's record first; the queue tries again. */
export class ConcurrentSendError extends Error {
    readonly transient = true;
    constructor(blob: string, detail: string) {
        super(`${containers.brokerOutbound}/${blob}: ${detail}; the queue will try again`);
        this.name = 'ConcurrentSendError';
    }
}

export async function readOutbox(storage: Storage, name: string): Promise<OutboxFile> {
    const blob = storage.container(containers.brokerOutbound).getBlockBlobClient(name);
    try {
        const properties = await blob.getProperties();
        return {
            blob,
            etag: properties.etag ?? '*',
            size: properties.contentLength ?? 0,
            ...(properties.contentMD5 ? { contentMd5: Buffer.from(properties.contentMD5).toString('hex') } : {}),
            metadata: properties.metadata ?? {},
        };
    } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) throw new OutboxFileMissingError(name);
        throw error;
    }
}

/** Sets (or, with undefined, removes) metadata, keeping the rest, if the blob is as `file` read it. */
export async function updateOutbox(file: OutboxFile, changes: Record<string, string | undefined>): Promise<OutboxFile> {
    const metadata = { ...file.metadata };
    for (const [name, value] of Object.entries(changes)) {
        if (value === undefined) delete metadata[name];
        else metadata[name] = value;
    }
    try {
        const response = await file.blob.setMetadata(metadata, { conditions: { ifMatch: file.etag } });
        return { ...file, etag: response.etag ?? file.etag, metadata };
    } catch (error) {
        if (error instanceof RestError && error.statusCode === 412) {
            throw new ConcurrentSendError(file.blob.name, 'another attempt changed its send record meanwhile');
        }
        throw error;
    }
}

/** Blocks of 4 MiB, two in flight: the file is never held whole, whatever its size. */
const putBlockBytes = 4 * 1024 * 1024;

/**
 * Puts a file in broker-outbound as a case system would, streaming, and computes its MD5 on the
 * way (stored as the blob's Content-MD5, and the checksum a send request gives Broker).
 */
export async function putInOutbox(
    storage: Storage,
    name: string,
    source: Readable,
): Promise<{ md5: string; size: number }> {
    const container = storage.container(containers.brokerOutbound);
    await container.createIfNotExists();
    const hashing = md5Stream();
    source.on('error', (error) => hashing.stream.destroy(error));
    const blob = container.getBlockBlobClient(name);
    await blob.uploadStream(source.pipe(hashing.stream), putBlockBytes, 2);
    const { md5, bytes } = hashing.result();
    await blob.setHTTPHeaders({ blobContentType: 'application/octet-stream', blobContentMD5: Buffer.from(md5, 'hex') });
    return { md5, size: bytes };
}
