/** Small blob operations the subscription handling needs: read, write JSON, list, and work under a lease. */
import type { BlobClient, ContainerClient } from '@azure/storage-blob';

/** The status code of a storage REST error (e.g. 404, 409, 412), if it is one. */
export function storageStatus(error: unknown): number | undefined {
    const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
    return typeof status === 'number' ? status : undefined;
}

/** The storage error code, e.g. LeaseAlreadyPresent or ContainerNotFound. */
export function storageCode(error: unknown): string | undefined {
    const code = (error as { code?: unknown; details?: { errorCode?: unknown } } | undefined)?.details?.errorCode;
    if (typeof code === 'string') return code;
    const fallback = (error as { code?: unknown } | undefined)?.code;
    return typeof fallback === 'string' ? fallback : undefined;
}

/** The blob's text, or undefined when it (or its container) does not exist. */
export async function readText(blob: BlobClient): Promise<string | undefined> {
    try {
        return (await blob.downloadToBuffer()).toString('utf8');
    } catch (error) {
        if (storageStatus(error) === 404) return undefined;
        throw error;
    }
}

/** Writes (overwrites) a JSON blob, creating the container on first use. */
export async function writeJson(container: ContainerClient, name: string, text: string): Promise<void> {
    const blob = container.getBlockBlobClient(name);
    const upload = () =>
        blob.upload(text, Buffer.byteLength(text), {
            blobHTTPHeaders: { blobContentType: 'application/json; charset=utf-8' },
        });
    try {
        await upload();
    } catch (error) {
        if (storageStatus(error) !== 404) throw error;
        await container.createIfNotExists();
        await upload();
    }
}

/** Every blob name in the container; none when the container does not exist yet. */
export async function listNames(container: ContainerClient): Promise<string[]> {
    const names: string[] = [];
    try {
        for await (const item of container.listBlobsFlat()) names.push(item.name);
    } catch (error) {
        if (storageStatus(error) === 404) return [];
        throw error;
    }
    return names;
}

/** Deletes a blob if it exists; true when it did. */
export async function deleteIfExists(blob: BlobClient, leaseId?: string): Promise<boolean> {
    const result = await blob.deleteIfExists(leaseId ? { conditions: { leaseId } } : {});
    return result.succeeded;
}

export const leaseSeconds = 60;
const renewEveryMs = 20_000;

export type LeaseOutcome<T> = { acquired: true; result: T } | { acquired: false; reason: 'leased' | 'gone' };

/**
 * Runs `work` while holding a lease on the blob, so that a concurrent run (another instance, or the
 * CLI) skips it instead of acting on it twice. The lease lasts 60 s and is renewed while `work`
 * runs, so a crashed run frees the blob within a minute. `work` gets the lease id (to delete the blob
 * under it); the lease is released afterwards unless the blob is gone.
 */
export async function withLease<T>(blob: BlobClient, work: (leaseId: string) => Promise<T>): Promise<LeaseOutcome<T>> {
    const lease = blob.getBlobLeaseClient();
    try {
        await lease.acquireLease(leaseSeconds);
    } catch (error) {
        const status = storageStatus(error);
        if (status === 409) return { acquired: false, reason: 'leased' };
        if (status === 404) return { acquired: false, reason: 'gone' };
        throw error;
    }
    const renewal = setInterval(() => {
        lease.renewLease().catch(() => undefined);
    }, renewEveryMs);
    renewal.unref();
    try {
        return { acquired: true, result: await work(lease.leaseId) };
    } finally {
        clearInterval(renewal);
        // Nothing to release when work deleted the blob; a failed release only means the lease runs out.
        await lease.releaseLease().catch(() => undefined);
    }
}
