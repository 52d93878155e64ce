/**
 * A resumable, memory-flat download into a Block Blob.
 *
 * The file is cut into fixed blocks of `chunkBytes` (8 MiB): block i holds bytes
 * [i·chunk, (i+1)·chunk) and has the id base64("aos-broker-{i:000000}"), so its content is
 * determined by the file alone. Each full block is staged and then committed at once, so that the
 * blob always holds a readable, committed prefix of the file (metadata partial=true); the last
 * commit adds Content-MD5 and drops `partial`.
 *
 * - Within one invocation: when the response body breaks (reset, truncation, timeout), the bytes
 *   already received are kept (committed blocks plus the block being filled in memory) and the
 *   download continues with `Range: bytes={received}-`. Nothing is fetched twice.
 * - Across invocations (crash, kill, timeout): the next attempt reads the committed block list,
 *   checks that it is this scheme's (ids in order, full blocks), and continues from its length.
 *   At most the one block that was being filled is fetched again.
 * - MD5 (checked against Broker's checksum) and SHA-256 (blob metadata `sha256`, lowercase hex) are
 *   computed from the bytes as they arrive, so a complete file is never read a second time. Node
 *   cannot save a hash's state across invocations, so a resumed download reads back the committed
 *   prefix once, streaming, to seed both hashes; a download that finishes in one invocation (the
 *   usual case) reads nothing back.
 * - Throughput: while one block is being staged and committed, the next is read into a second
 *   buffer, so downloading and uploading overlap (at most one write in flight, commits in order).
 * - Memory: two block buffers (2 × 8 MiB) plus the HTTP and storage streams' own small buffers,
 *   whatever the file's size.
 * - Concurrency: every commit is conditional (If-None-Match: * for the first, If-Match: the
 *   last ETag after), so two invocations working on the same transfer (webhook and catch-up) can
 *   never interleave their block lists; the loser stops with a transient ConcurrentDownloadError.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { RestError, type BlobHTTPHeaders, type BlockBlobClient } from '@azure/storage-blob';
import { errorCode, isTransientCode } from '../altinn/retry';
import { errorMessage, warnStep, type LogFields, type StepLogger } from '../log';
import { PARTIAL_METADATA, SHA256_METADATA } from './layout';

export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
/**
 * How many times in a row a response may break before the invocation gives up; a response that
 * brought new bytes starts the count again at 1 (so 0 gives up at the first break).
 */
export const DEFAULT_MAX_ATTEMPTS_WITHOUT_PROGRESS = 5;

export interface DownloadResponse {
    status: number;
    headers: IncomingHttpHeaders;
    body: Readable;
}

export interface ResumableDownloadOptions {
    blob: BlockBlobClient;
    /** The size Broker announced (fileTransferSize): exactly this many bytes are stored. */
    size: number;
    /** MD5 (16 bytes) the file must have, when known. */
    expectedMd5?: Buffer;
    /** Opens the download at `offset` (a Range request when offset > 0); throws for a non-2xx answer. */
    open(offset: number): Promise<DownloadResponse>;
    httpHeaders: BlobHTTPHeaders;
    metadata: Record<string, string>;
    chunkBytes?: number;
    maxAttemptsWithoutProgress?: number;
    /** Wait before the n-th consecutive retry (1-based). */
    retryDelayMs?: (attempt: number) => number;
    logger: StepLogger;
    /** Added to every log line (eventId, fileTransferId, …). */
    logFields?: LogFields;
}

export interface ResumableDownloadResult {
    bytes: number;
    /** Lowercase hex MD5 of the stored file. */
    md5: string;
    /** Lowercase hex SHA-256 of the stored file (also its `sha256` metadata); undefined for a file stored before it was kept. */
    sha256?: string;
    /** Bytes already stored when this call began (0 for a fresh download). */
    resumedFrom: number;
    /** Body bytes received over HTTP by this call. */
    downloadedBytes: number;
    /** Download requests made by this call. */
    requests: number;
    /** The blob was complete already (a previous attempt stored it and then failed later). */
    alreadyComplete: boolean;
}

/** The stored bytes do not hash to the checksum Broker gave; the blob has been deleted. */
export class ChecksumMismatchError extends Error {
    readonly transient = true;
    constructor(
        readonly expected: string,
        readonly actual: string,
    ) {
        super(`MD5 of the downloaded file is ${actual}, Broker's checksum is ${expected}; the stored copy was deleted`);
        this.name = 'ChecksumMismatchError';
    }
}

/** Broker served bytes beyond the announced size, or a Content-Range other than asked for. */
export class DownloadMismatchError extends Error {
    readonly transient = true;
    constructor(message: string) {
        super(message);
        this.name = 'DownloadMismatchError';
    }
}

/** Another invocation is writing the same blob right now. */
export class ConcurrentDownloadError extends Error {
    readonly transient = true;
    constructor(blobName: string) {
        super(`Another invocation is storing ${blobName} at the same time; the queue will try again`);
        this.name = 'ConcurrentDownloadError';
    }
}

/** The download kept breaking without progress. */
export class DownloadStalledError extends Error {
    readonly transient = true;
    constructor(message: string, cause: unknown) {
        super(message, { cause });
        this.name = 'DownloadStalledError';
    }
}

/** A response body that broke off (reset, truncated, idle timeout) or ended early: resumable. */
class BrokenBodyError extends Error {
    constructor(message: string, cause?: unknown) {
        super(message, cause === undefined ? undefined : { cause });
        this.name = 'BrokenBodyError';
    }
}

export function blockId(index: number): string {
    return Buffer.from(`aos-broker-${String(index).padStart(6, '0')}`).toString('base64');
}

function blockIds(count: number): string[] {
    return Array.from({ length: count }, (_, i) => blockId(i));
}

type StoredState =
    | { kind: 'none' }
    | { kind: 'complete'; etag: string; md5: Buffer; length: number; sha256?: string }
    | { kind: 'partial'; etag: string; blocks: number; length: number }
    | { kind: 'foreign'; etag: string; length: number };

function statusOf(error: unknown): number | undefined {
    return error instanceof RestError ? error.statusCode : undefined;
}

/** What the blob holds now: nothing, a complete file, a prefix in this scheme, or something else. */
async function inspect(blob: BlockBlobClient, size: number, chunk: number): Promise<StoredState> {
    let properties;
    try {
        properties = await blob.getProperties();
    } catch (error) {
        if (statusOf(error) === 404) return { kind: 'none' };
        throw error;
    }
    const etag = properties.etag ?? '*';
    const length = properties.contentLength ?? 0;
    const partial = properties.metadata?.[PARTIAL_METADATA] === 'true';
    if (!partial && length === size && properties.contentMD5 && properties.contentMD5.length === 16) {
        const sha256 = properties.metadata?.[SHA256_METADATA];
        return {
            kind: 'complete',
            etag,
            md5: Buffer.from(properties.contentMD5),
            length,
            ...(sha256 ? { sha256 } : {}),
        };
    }
    if (properties.blobType !== 'BlockBlob') return { kind: 'foreign', etag, length };
    let committed;
    try {
        committed = (await blob.getBlockList('committed')).committedBlocks ?? [];
    } catch (error) {
        if (statusOf(error) === 404) return { kind: 'none' };
        throw error;
    }
    let total = 0;
    const ours = committed.every((block, index) => {
        total += block.size;
        const last = index === committed.length - 1;
        return block.name === blockId(index) && (block.size === chunk || (last && block.size < chunk));
    });
    // A short block may only end the file; a prefix must be whole blocks.
    const shortTail = committed.length > 0 && committed[committed.length - 1].size < chunk;
    if (!ours || total !== length || length > size || (shortTail && length !== size)) {
        return { kind: 'foreign', etag, length };
    }
    return { kind: 'partial', etag, blocks: committed.length, length };
}

function contentRangeStart(headers: IncomingHttpHeaders): number | undefined {
    const match = /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(String(headers['content-range'] ?? '').trim());
    return match ? Number(match[1]) : undefined;
}

function defaultRetryDelay(attempt: number): number {
    const ceiling = Math.min(5_000, 250 * 2 ** (attempt - 1));
    return ceiling / 2 + Math.floor((Math.random() * ceiling) / 2);
}

/** Downloads into `blob`, resuming whatever an earlier attempt stored; see the module comment. */
export async function downloadResumable(options: ResumableDownloadOptions): Promise<ResumableDownloadResult> {
    const { blob, size, logger } = options;
    const chunk = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    const maxAttempts = options.maxAttemptsWithoutProgress ?? DEFAULT_MAX_ATTEMPTS_WITHOUT_PROGRESS;
    const retryDelay = options.retryDelayMs ?? defaultRetryDelay;
    const fields = options.logFields ?? {};
    if (!Number.isSafeInteger(chunk) || chunk < 1) throw new RangeError('chunkBytes must be a positive integer');

    let state = await inspect(blob, size, chunk);
    if (state.kind === 'complete') {
        const md5 = state.md5.toString('hex');
        if (!options.expectedMd5 || options.expectedMd5.equals(state.md5)) {
            return {
                bytes: size,
                md5,
                ...(state.sha256 ? { sha256: state.sha256 } : {}),
                resumedFrom: size,
                downloadedBytes: 0,
                requests: 0,
                alreadyComplete: true,
            };
        }
        // Complete but not the file Broker describes now: start over.
        state = { kind: 'foreign', etag: state.etag, length: state.length };
    }

    let etag: string | undefined = state.kind === 'none' ? undefined : state.etag;
    let blocks = state.kind === 'partial' ? state.blocks : 0;
    let committed = state.kind === 'partial' ? state.length : 0;
    const resumedFrom = committed;
    const hash = createHash('md5');
    const sha256 = createHash('sha256');

    if (state.kind === 'foreign') {
        warnStep(logger, 'download-restart', { ...fields, blob: blob.name, storedBytes: state.length });
    }
    if (committed > 0) {
        // Seed the hashes with what an earlier attempt stored (read once, streaming): a hash's state cannot be saved.
        const response = await blob.download(0, committed, { conditions: { ifMatch: etag } });
        let read = 0;
        for await (const piece of response.readableStreamBody as AsyncIterable<Buffer>) {
            hash.update(piece);
            sha256.update(piece);
            read += piece.length;
        }
        if (read !== committed) throw new Error(`Read back ${read} of the ${committed} stored bytes of ${blob.name}`);
        warnStep(logger, 'download-resume', { ...fields, blob: blob.name, fromBytes: committed, size });
    }

    const blockBytes = Math.max(1, Math.min(chunk, size - committed));
    // Two block buffers: one is filled from the response while the other is being written.
    const buffers: Buffer[] = [Buffer.allocUnsafe(blockBytes)];
    let current = 0;
    let fill = 0;
    /** Bytes stored, being written, or in the buffer being filled: where the next request starts. */
    let received = committed;
    /** Blocks handed to a write (committed or in flight). */
    let handedOver = blocks;
    let inFlight: Promise<void> | undefined;
    let finalMd5: string | undefined;
    let finalSha256: string | undefined;
    let downloadedBytes = 0;
    let requests = 0;

    const commit = async (
        count: number,
        length: number,
        final: boolean,
        md5?: Buffer,
        sha256Hex?: string,
    ): Promise<void> => {
        const ids = blockIds(count);
        try {
            const response = await blob.commitBlockList(ids, {
                conditions: etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag },
                blobHTTPHeaders: final ? { ...options.httpHeaders, blobContentMD5: md5 } : options.httpHeaders,
                metadata: final
                    ? { ...options.metadata, ...(sha256Hex ? { [SHA256_METADATA]: sha256Hex } : {}) }
                    : { ...options.metadata, [PARTIAL_METADATA]: 'true' },
            });
            etag = response.etag;
        } catch (error) {
            const status = statusOf(error);
            if (status !== 409 && status !== 412) throw error;
            // Either the storage client retried a commit whose answer was lost, or someone else committed.
            const now = await inspect(blob, size, chunk);
            const same =
                (now.kind === 'partial' && !final && now.blocks === count && now.length === length) ||
                (now.kind === 'complete' && final && md5 !== undefined && now.md5.equals(md5));
            if (!same) throw new ConcurrentDownloadError(blob.name);
            etag = now.etag;
        }
    };

    /** Stages block `index` (when there are bytes) and commits the list up to it. */
    const write = async (
        index: number,
        data: Buffer,
        final: boolean,
        md5?: Buffer,
        sha256Hex?: string,
    ): Promise<void> => {
        if (data.length > 0) await blob.stageBlock(blockId(index), data, data.length);
        const count = index + (data.length > 0 ? 1 : 0);
        await commit(count, committed + data.length, final, md5, sha256Hex);
        blocks = count;
        committed += data.length;
    };

    /** Waits for the write in flight; its failure surfaces here. */
    const settle = async (): Promise<void> => {
        const pending = inFlight;
        inFlight = undefined;
        await pending;
    };

    /** Hands the full buffer to a write and goes on filling the other one. */
    const handOver = async (): Promise<void> => {
        await settle();
        const data = buffers[current].subarray(0, fill);
        inFlight = write(handedOver, data, false);
        inFlight.catch(() => undefined); // awaited by settle(); this only keeps it from counting as unhandled
        handedOver++;
        current = 1 - current;
        buffers[current] ??= Buffer.allocUnsafe(blockBytes);
        fill = 0;
    };

    /** The last block, with Content-MD5 once the hash matches Broker's checksum. */
    const finish = async (): Promise<void> => {
        await settle();
        const md5 = hash.digest();
        if (options.expectedMd5 && !options.expectedMd5.equals(md5)) {
            await blob.deleteIfExists(etag === undefined ? {} : { conditions: { ifMatch: etag } }).catch(() => {
                // Nothing committed yet, or someone else's now: either way not ours to delete.
            });
            throw new ChecksumMismatchError(options.expectedMd5.toString('hex'), md5.toString('hex'));
        }
        const sha256Hex = sha256.digest('hex');
        await write(handedOver, buffers[current].subarray(0, fill), true, md5, sha256Hex);
        fill = 0;
        finalMd5 = md5.toString('hex');
        finalSha256 = sha256Hex;
    };

    const consume = async (response: DownloadResponse, start: number): Promise<void> => {
        let skip = 0;
        if (response.status === 206) {
            const first = contentRangeStart(response.headers);
            if (first !== start) {
                throw new DownloadMismatchError(
                    `Asked for bytes ${start}- and got Content-Range ${String(response.headers['content-range'])}`,
                );
            }
        } else if (start > 0) {
            skip = start; // the whole file despite the Range header: pass over what is stored already
        }
        const iterator = (response.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        for (;;) {
            let next: IteratorResult<Buffer>;
            try {
                next = await iterator.next();
            } catch (error) {
                if (!isTransientCode(errorCode(error))) throw error;
                throw new BrokenBodyError(`the download broke off after ${received} bytes`, error);
            }
            if (next.done) break;
            let data = next.value;
            if (skip > 0) {
                const dropped = Math.min(skip, data.length);
                skip -= dropped;
                data = data.subarray(dropped);
                if (data.length === 0) continue;
            }
            if (received + data.length > size) {
                throw new DownloadMismatchError(`Broker sent more than the announced ${size} bytes`);
            }
            hash.update(data);
            sha256.update(data);
            downloadedBytes += data.length;
            while (data.length > 0) {
                const take = Math.min(data.length, blockBytes - fill);
                data.copy(buffers[current], fill, 0, take);
                fill += take;
                received += take;
                data = data.subarray(take);
                if (received === size) await finish();
                else if (fill === blockBytes) await handOver();
            }
        }
        if (received < size) throw new BrokenBodyError(`the download ended after ${received} of ${size} bytes`);
    };

    try {
        let attemptsWithoutProgress = 0;
        // An empty file is still fetched once: Broker refuses confirmdownload for a file never downloaded.
        while (received < size || (size === 0 && requests === 0)) {
            const start = received;
            let response: DownloadResponse | undefined;
            try {
                requests++;
                response = await options.open(start);
                await consume(response, start);
            } catch (error) {
                if (!(error instanceof BrokenBodyError)) throw error;
                attemptsWithoutProgress = received > start ? 1 : attemptsWithoutProgress + 1;
                if (attemptsWithoutProgress > maxAttempts) {
                    throw new DownloadStalledError(
                        `The download of ${blob.name} stopped making progress at ${received} of ${size} bytes (${attemptsWithoutProgress} breaks in a row): ${errorMessage(error.cause ?? error)}`,
                        error,
                    );
                }
                const delayMs = retryDelay(attemptsWithoutProgress);
                warnStep(logger, 'download-retry', {
                    ...fields,
                    atBytes: received,
                    size,
                    attempt: attemptsWithoutProgress,
                    delayMs,
                    error: errorMessage(error.cause ?? error),
                });
                await sleep(delayMs);
            } finally {
                if (response && !response.body.destroyed) response.body.destroy();
            }
        }
        if (finalMd5 === undefined) await finish();
    } finally {
        // Never leave a write running behind a failure (its own error, if any, is not the one to report).
        await inFlight?.catch(() => undefined);
    }

    return {
        bytes: size,
        md5: finalMd5!,
        sha256: finalSha256!,
        resumedFrom,
        downloadedBytes,
        requests,
        alreadyComplete: false,
    };
}
