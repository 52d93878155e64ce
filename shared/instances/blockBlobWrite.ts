/**
 * Writing a stream into a block blob whose headers and metadata are known only once the stream
 * has ended (the SHA-256 of its bytes), all or nothing, with the fewest storage requests:
 *
 * - a stream that fits in one buffer (bufferSize bytes or fewer) is written with one Put Blob;
 * - a longer one is staged as blocks of bufferSize while it flows (at most maxConcurrency
 *   uploads at once, the source waiting meanwhile) and committed with one Put Block List
 *   carrying the headers and metadata, only after the source ended cleanly.
 *
 * BlockBlobClient.uploadStream would take the metadata before the first byte and always costs a
 * Put Block plus a Put Block List, even for 200 bytes; hence this. When the source fails, nothing
 * is committed: staged blocks stay uncommitted and Azure discards them (after a week at most).
 * Memory stays near bufferSize × (maxConcurrency + 1), whatever the size of the stream.
 */
import { randomUUID } from 'node:crypto';
import type { BlobHTTPHeaders, BlobRequestConditions, BlockBlobClient } from '@azure/storage-blob';

export interface BlockBlobWriteOptions {
    bufferSize: number;
    maxConcurrency: number;
}

/** What the commit carries, decided after the last byte. */
export interface BlobCommit {
    headers: BlobHTTPHeaders;
    metadata: Record<string, string>;
    /** Conditions on the Put Blob or Put Block List (staged blocks take none: they change nothing visible). */
    conditions?: BlobRequestConditions;
}

/** How the blob was written: one Put Blob, or this many blocks and a Put Block List. */
export type BlobWriteKind = { kind: 'put' } | { kind: 'blocks'; blocks: number };

export async function writeBlockBlob(
    blob: BlockBlobClient,
    source: AsyncIterable<Buffer>,
    options: BlockBlobWriteOptions,
    commit: () => BlobCommit,
    signal?: AbortSignal,
): Promise<BlobWriteKind> {
    const { bufferSize, maxConcurrency } = options;
    // Block ids of one blob must all have the same length; a fresh prefix per write keeps a
    // failed attempt's staged blocks from mixing with this one's.
    const prefix = randomUUID();
    const ids: string[] = [];
    const inFlight = new Set<Promise<void>>();
    const staging = new AbortController();
    const abortStaging = () => staging.abort(signal?.reason);
    signal?.addEventListener('abort', abortStaging, { once: true });
    // The first staging failure, kept until the writer next looks (a settled upload leaves inFlight at once).
    let failure: { error: unknown } | undefined;
    const throwIfFailed = () => {
        if (failure) throw failure.error;
    };

    const stage = async (data: Buffer): Promise<void> => {
        while (inFlight.size >= maxConcurrency) await Promise.race(inFlight);
        throwIfFailed();
        const id = Buffer.from(`${prefix}-${String(ids.length).padStart(6, '0')}`).toString('base64');
        ids.push(id);
        const tracked: Promise<void> = blob.stageBlock(id, data, data.length, { abortSignal: staging.signal }).then(
            () => {
                inFlight.delete(tracked);
            },
            (error: unknown) => {
                inFlight.delete(tracked);
                failure ??= { error };
                staging.abort(error);
            },
        );
        inFlight.add(tracked);
    };

    let chunks: Buffer[] = [];
    let filled = 0;
    try {
        for await (const chunk of source) {
            chunks.push(chunk);
            filled += chunk.length;
            // Strictly more than one buffer: a stream of exactly bufferSize bytes is still one Put Blob.
            while (filled > bufferSize) {
                const all = Buffer.concat(chunks, filled);
                const rest = all.subarray(bufferSize);
                chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
                filled = rest.length;
                await stage(all.subarray(0, bufferSize));
            }
        }
        const { headers, metadata, conditions } = commit();
        if (ids.length === 0) {
            const body = Buffer.concat(chunks, filled);
            await blob.upload(body, body.length, {
                blobHTTPHeaders: headers,
                metadata,
                conditions,
                abortSignal: signal,
            });
            return { kind: 'put' };
        }
        if (filled > 0) await stage(Buffer.concat(chunks, filled));
        await Promise.all(inFlight);
        throwIfFailed();
        await blob.commitBlockList(ids, { blobHTTPHeaders: headers, metadata, conditions, abortSignal: signal });
        return { kind: 'blocks', blocks: ids.length };
    } catch (error) {
        staging.abort(error);
        await Promise.allSettled(inFlight);
        throw error;
    } finally {
        signal?.removeEventListener('abort', abortStaging);
    }
}
