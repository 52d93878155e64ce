/**
 * The instance store: data elements, manifests and instance documents in Blob Storage, in the
 * layout of layout.ts. A data element is streamed into its blob by writeBlockBlob (one Put Blob
 * when it fits in one buffer, otherwise blocks committed only after the source ended cleanly).
 * The source passes through a byte counter that hashes what it passes (SHA-256, stored as the
 * blob's `sha256` metadata at the commit), errors on the first byte beyond the element's size,
 * and at the end when bytes are missing, so a short or long body never becomes a committed
 * blob: a failed upload leaves no blob, or the previous version untouched.
 *
 * Every write is conditional, so that two processors storing the same instance at once (Flex runs
 * several hosts; the webhook, catch-up and reconciliation race) never put an older copy over a
 * newer one: a data blob is created only where none exists (If-None-Match: *) or replaced only as
 * the version it was read as (If-Match: its ETag), and manifest.json and instance.json carry the
 * instance's lastChanged in metadata (`lastchanged`), which a write never moves backwards
 * (writeDescribing). docs/guarantees.md says what that guarantees.
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RestError, type BlobRequestConditions, type ContainerClient } from '@azure/storage-blob';
import type { DataElement } from '../altinn/apps';
import { writeBlockBlob, type BlobWriteKind, type BlockBlobWriteOptions } from './blockBlobWrite';
import {
    blobContentType,
    contentDisposition,
    dataBlobName,
    decodeMetadataValue,
    encodeMetadataValue,
    instanceBlobName,
    type DataBlobMetadata,
    type InstanceBlobMetadata,
} from './layout';
import { manifestBlobName, type Manifest } from './manifest';
import type { InstanceRef } from './source';
import { compareChangeTimes } from './version';

/** Memory per upload stays near bufferSize × (maxConcurrency + 1), whatever the file size. */
export type UploadOptions = BlockBlobWriteOptions;

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

/**
 * Passes bytes through, failing as soon as there are too many and at the end when there are too
 * few, and hashes them on the way (SHA-256, in the same pass: the bytes are read once).
 */
export class ByteCounter extends Transform {
    bytes = 0;
    /** Lowercase hex SHA-256 of every byte passed; set once the stream ended with the right count. */
    sha256: string | undefined;
    readonly #hash = createHash('sha256');

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
        this.#hash.update(chunk);
        callback(null, chunk);
    }

    override _flush(callback: TransformCallback): void {
        // An error here means no 'end' event, so the blob is never put or committed.
        if (this.bytes !== this.expected) {
            callback(new ByteCountError(this.dataElementId, this.expected, this.bytes, true));
            return;
        }
        this.sha256 = this.#hash.digest('hex');
        callback();
    }
}

export interface StoredInstance {
    /** instance.json as stored. */
    text: string;
    metadata: Record<string, string>;
    etag?: string;
}

export interface BlobInfo {
    contentLength: number;
    metadata: Record<string, string>;
    lastModified?: Date;
    etag?: string;
}

/**
 * What a conditional write of manifest.json or instance.json did: wrote ours; found the same
 * lastChanged there (the same document, nothing to write); or found a newer one, which stays.
 */
export type DescribingWrite =
    | { outcome: 'written'; bytes: number }
    /** `storedEventId`: the event whose processing wrote the blob that is there (instance.json's metadata `eventid`). */
    | { outcome: 'same' | 'newer'; bytes: number; storedVersion?: string; storedEventId?: string };

/** The version and lastChanged a describing blob is written with (its metadata `version`, `lastchanged`). */
export interface DescribedVersion {
    version: string;
    lastChanged: string | null;
}

/** Where a data element's bytes go: `inbound`, or `quarantine` when Altinn's scan found it infected. */
export type DataPlace = 'inbound' | 'quarantine';

export interface StoredData {
    bytes: number;
    /** Lowercase hex SHA-256 of the stored bytes. */
    sha256: string;
    written: BlobWriteKind;
}

export class InstanceStore {
    #ready: Promise<unknown> | undefined;

    constructor(
        readonly containers: Record<DataPlace, ContainerClient>,
        private readonly upload: UploadOptions = defaultUploadOptions,
    ) {}

    /** Creates the containers once per process if missing (Bicep provisions them in Azure; locally nobody does). */
    ensureContainer(): Promise<unknown> {
        this.#ready ??= Promise.all(Object.values(this.containers).map((c) => c.createIfNotExists())).catch(
            (error: unknown) => {
                this.#ready = undefined;
                throw error;
            },
        );
        return this.#ready;
    }

    /** The stored instance.json, or undefined when this instance was never (completely) stored. */
    async readInstance(ref: InstanceRef): Promise<StoredInstance | undefined> {
        try {
            const response = await this.containers.inbound.getBlobClient(instanceBlobName(ref)).download();
            const chunks: Buffer[] = [];
            for await (const chunk of response.readableStreamBody ?? []) chunks.push(chunk as Buffer);
            return {
                text: Buffer.concat(chunks).toString('utf8'),
                metadata: response.metadata ?? {},
                etag: response.etag,
            };
        } catch (error) {
            if (isNotFound(error)) return undefined;
            throw error;
        }
    }

    /** Properties of instance.json; undefined when it does not exist. */
    instanceInfo(ref: InstanceRef): Promise<BlobInfo | undefined> {
        return this.blobInfo(this.containers.inbound, instanceBlobName(ref));
    }

    /** Properties of a data blob; undefined when it does not exist. */
    dataInfo(ref: InstanceRef, dataElementId: string, place: DataPlace = 'inbound'): Promise<BlobInfo | undefined> {
        return this.blobInfo(this.containers[place], dataBlobName(ref, dataElementId));
    }

    /**
     * Streams `body` into the element's blob (in `place`) with backpressure, committing only when
     * exactly `element.size` bytes arrived, with their SHA-256 as metadata `sha256`. Resolves with
     * the byte count and hash; on any failure (source error, wrong count, storage error, abort)
     * rejects with nothing committed.
     */
    async storeData(
        ref: InstanceRef,
        element: DataElement,
        body: Readable,
        signal?: AbortSignal,
        place: DataPlace = 'inbound',
        conditions?: BlobRequestConditions,
    ): Promise<StoredData> {
        const counter = new ByteCounter(element.id, element.size);
        const metadata: DataBlobMetadata = { datatype: encodeMetadataValue(element.dataType) };
        if (element.filename) metadata.filename = encodeMetadataValue(element.filename);
        if (element.lastChanged) metadata.lastchanged = encodeMetadataValue(element.lastChanged);
        const blob = this.containers[place].getBlockBlobClient(dataBlobName(ref, element.id));
        const writing = writeBlockBlob(
            blob,
            counter,
            this.upload,
            () => ({
                headers: {
                    blobContentType: blobContentType(element.contentType),
                    blobContentDisposition: contentDisposition(element.filename),
                },
                metadata: { ...metadata, sha256: counter.sha256! },
                conditions,
            }),
            signal,
        );
        const piping = pipeline(body, counter, signal ? { signal } : {});
        const [piped, written] = await Promise.allSettled([piping, writing]);
        // The source's own error says more than the upload's echo of it, and storage's error more
        // than the teardown of the source it caused.
        const tornDown = written.status === 'rejected' && !signal?.aborted && isTeardown(piped);
        if (piped.status === 'rejected' && !tornDown) throw piped.reason;
        if (written.status === 'rejected') throw written.reason;
        return { bytes: counter.bytes, sha256: counter.sha256!, written: written.value };
    }

    /** Writes manifest.json in one request (atomic), before instance.json, unless a newer one is there. */
    writeManifest(ref: InstanceRef, manifest: Manifest, described: DescribedVersion): Promise<DescribingWrite> {
        return this.writeDescribing(manifestBlobName(ref), JSON.stringify(manifest, null, 2), {}, described);
    }

    /** Writes instance.json in one request (atomic): the text as received, application/json, unless a newer one is there. */
    writeInstance(
        ref: InstanceRef,
        text: string,
        metadata: InstanceBlobMetadata,
        described: DescribedVersion,
    ): Promise<DescribingWrite> {
        return this.writeDescribing(instanceBlobName(ref), text, metadata as Record<string, string>, described);
    }

    /**
     * Puts a JSON blob that describes one version of the instance, never over a newer one: created
     * where none exists (If-None-Match: *, the one request of a first store); where one exists,
     * compared by its metadata `lastchanged` (the instance's lastChanged it describes) and replaced
     * only when older, as the very blob that was compared (If-Match: its ETag). A write that loses
     * a race looks again.
     */
    private async writeDescribing(
        name: string,
        text: string,
        metadata: Record<string, string>,
        { version, lastChanged }: DescribedVersion,
    ): Promise<DescribingWrite> {
        const bytes = Buffer.from(text, 'utf8');
        const blob = this.containers.inbound.getBlockBlobClient(name);
        const all = {
            ...metadata,
            version,
            lastchanged: encodeMetadataValue(lastChanged ?? ''),
        };
        let conditions: BlobRequestConditions = { ifNoneMatch: '*' };
        for (let round = 0; ; round++) {
            try {
                await blob.upload(bytes, bytes.length, {
                    blobHTTPHeaders: { blobContentType: 'application/json' },
                    metadata: all,
                    conditions,
                });
                return { outcome: 'written', bytes: bytes.length };
            } catch (error) {
                if (!isConflict(error) || round >= 3) throw error;
            }
            const there = await this.blobInfo(this.containers.inbound, name);
            if (!there) {
                conditions = { ifNoneMatch: '*' };
                continue;
            }
            const order = compareChangeTimes(decodeMetadataValue(there.metadata.lastchanged), lastChanged);
            if (order >= 0) {
                return {
                    outcome: order === 0 ? 'same' : 'newer',
                    bytes: bytes.length,
                    storedVersion: there.metadata.version,
                    storedEventId: decodeMetadataValue(there.metadata.eventid),
                };
            }
            conditions = { ifMatch: there.etag };
        }
    }

    private async blobInfo(container: ContainerClient, name: string): Promise<BlobInfo | undefined> {
        try {
            const properties = await container.getBlobClient(name).getProperties();
            return {
                contentLength: properties.contentLength ?? 0,
                metadata: properties.metadata ?? {},
                lastModified: properties.lastModified,
                etag: properties.etag,
            };
        } catch (error) {
            if (isNotFound(error)) return undefined;
            throw error;
        }
    }
}

/** The pipe ended only because its reader stopped (the upload failed), not because of the source. */
function isTeardown(piped: PromiseSettledResult<unknown>): boolean {
    const code = piped.status === 'rejected' ? (piped.reason as { code?: unknown } | undefined)?.code : undefined;
    return code === 'ABORT_ERR' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

function isNotFound(error: unknown): boolean {
    return error instanceof RestError && error.statusCode === 404;
}

/** A conditional write lost: the blob exists (409 BlobAlreadyExists) or is not the one compared (412). */
export function isConflict(error: unknown): boolean {
    return error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412);
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
