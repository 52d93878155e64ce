/**
 * The instance store: data elements and instance documents in Blob Storage, in the layout of
 * layout.ts. A data element is streamed into its blob with BlockBlobClient.uploadStream, which
 * stages blocks as they arrive and commits the block list only after the source stream ended
 * cleanly. The source passes through a byte counter that errors on the first byte beyond the
 * element's size, and at the end when bytes are missing, so a short or long body never becomes
 * a committed blob: a failed upload leaves no blob, or the previous version untouched.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RestError, type ContainerClient } from '@azure/storage-blob';
import type { DataElement } from '../altinn/apps';
import {
    blobContentType,
    contentDisposition,
    dataBlobName,
    encodeMetadataValue,
    instanceBlobName,
    type DataBlobMetadata,
    type InstanceBlobMetadata,
} from './layout';
import type { InstanceRef } from './source';

/** Memory per upload stays near bufferSize × maxConcurrency, whatever the file size. */
export interface UploadOptions {
    bufferSize: number;
    maxConcurrency: number;
}

export const defaultUploadOptions: UploadOptions = { bufferSize: 4 * 1024 * 1024, maxConcurrency: 2 };

/** The body had fewer or more bytes than the data element's size. */
export class ByteCountError extends Error {
    constructor(
        readonly dataElementId: string,
        readonly expected: number,
        readonly received: number,
        readonly complete: boolean,
    ) {
        super(
            complete
                ? `Data element ${dataElementId}: the body has ${received} bytes, its size is ${expected}`
                : `Data element ${dataElementId}: the body has more than its size of ${expected} bytes`,
        );
        this.name = 'ByteCountError';
    }
}

/** Passes bytes through, failing as soon as there are too many and at the end when there are too few. */
export class ByteCounter extends Transform {
    bytes = 0;

    constructor(
        private readonly dataElementId: string,
        private readonly expected: number,
    ) {
        super();
    }

    override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
        this.bytes += chunk.length;
        if (this.bytes > this.expected) {
            callback(new ByteCountError(this.dataElementId, this.expected, this.bytes, false));
            return;
        }
        callback(null, chunk);
    }

    override _flush(callback: TransformCallback): void {
        // An error here means no 'end' event, so uploadStream never commits the block list.
        callback(
            this.bytes === this.expected
                ? null
                : new ByteCountError(this.dataElementId, this.expected, this.bytes, true),
        );
    }
}

export interface StoredInstance {
    /** instance.json as stored. */
    text: string;
    metadata: Record<string, string>;
}

export interface BlobInfo {
    contentLength: number;
    metadata: Record<string, string>;
    lastModified?: Date;
}

export class InstanceStore {
    #ready: Promise<unknown> | undefined;

    constructor(
        readonly container: ContainerClient,
        private readonly upload: UploadOptions = defaultUploadOptions,
    ) {}

    /** Creates the container once per process if it is missing (Bicep provisions it in Azure; locally nobody does). */
    ensureContainer(): Promise<unknown> {
        this.#ready ??= this.container.createIfNotExists().catch((error: unknown) => {
            this.#ready = undefined;
            throw error;
        });
        return this.#ready;
    }

    /** The stored instance.json, or undefined when this instance was never (completely) stored. */
    async readInstance(ref: InstanceRef): Promise<StoredInstance | undefined> {
        try {
            const response = await this.container.getBlobClient(instanceBlobName(ref)).download();
            const chunks: Buffer[] = [];
            for await (const chunk of response.readableStreamBody ?? []) chunks.push(chunk as Buffer);
            return { text: Buffer.concat(chunks).toString('utf8'), metadata: response.metadata ?? {} };
        } catch (error) {
            if (isNotFound(error)) return undefined;
            throw error;
        }
    }

    /** Properties of instance.json; undefined when it does not exist. */
    instanceInfo(ref: InstanceRef): Promise<BlobInfo | undefined> {
        return this.blobInfo(instanceBlobName(ref));
    }

    /** Properties of a data blob; undefined when it does not exist. */
    dataInfo(ref: InstanceRef, dataElementId: string): Promise<BlobInfo | undefined> {
        return this.blobInfo(dataBlobName(ref, dataElementId));
    }

    /**
     * Streams `body` into the element's blob with backpressure, committing only when exactly
     * `element.size` bytes arrived. Resolves with the byte count; on any failure (source error,
     * wrong count, storage error, abort) rejects with nothing committed.
     */
    async storeData(ref: InstanceRef, element: DataElement, body: Readable, signal?: AbortSignal): Promise<number> {
        const counter = new ByteCounter(element.id, element.size);
        const metadata: DataBlobMetadata = { datatype: encodeMetadataValue(element.dataType) };
        if (element.filename) metadata.filename = encodeMetadataValue(element.filename);
        const blob = this.container.getBlockBlobClient(dataBlobName(ref, element.id));
        const uploading = blob.uploadStream(counter, this.upload.bufferSize, this.upload.maxConcurrency, {
            blobHTTPHeaders: {
                blobContentType: blobContentType(element.contentType),
                blobContentDisposition: contentDisposition(element.filename),
            },
            metadata: metadata as Record<string, string>,
            abortSignal: signal,
        });
        const piping = pipeline(body, counter, signal ? { signal } : {});
        const [piped, uploaded] = await Promise.allSettled([piping, uploading]);
        // The source's own error says more than the upload's echo of it.
        if (piped.status === 'rejected') throw piped.reason;
        if (uploaded.status === 'rejected') throw uploaded.reason;
        return counter.bytes;
    }

    /** Writes instance.json in one request (atomic): the text as received, application/json. */
    async writeInstance(ref: InstanceRef, text: string, metadata: InstanceBlobMetadata): Promise<number> {
        const bytes = Buffer.from(text, 'utf8');
        await this.container.getBlockBlobClient(instanceBlobName(ref)).upload(bytes, bytes.length, {
            blobHTTPHeaders: { blobContentType: 'application/json' },
            metadata: metadata as Record<string, string>,
        });
        return bytes.length;
    }

    private async blobInfo(name: string): Promise<BlobInfo | undefined> {
        try {
            const properties = await this.container.getBlobClient(name).getProperties();
            return {
                contentLength: properties.contentLength ?? 0,
                metadata: properties.metadata ?? {},
                lastModified: properties.lastModified,
            };
        } catch (error) {
            if (isNotFound(error)) return undefined;
            throw error;
        }
    }
}

function isNotFound(error: unknown): boolean {
    return error instanceof RestError && error.statusCode === 404;
}

/** A later stage found no instance.json: the instance was never completely stored, so it must not go on. */
export class InstanceNotStoredError extends Error {
    constructor(instanceId: string, blobName: string, stage: string) {
        super(
            `Refusing to ${stage} instance ${instanceId}: ${blobName} is not in the store (was the message queued without EventsProcessor storing it?)`,
        );
        this.name = 'InstanceNotStoredError';
    }
}
