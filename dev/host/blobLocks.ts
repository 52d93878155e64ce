/**
 * Distributed locks as blob leases in the host's storage, the way the Functions host takes them
 * (azure-webjobs-sdk, src/Microsoft.Azure.WebJobs.Host/Singleton/BlobLeaseDistributedLockManager.cs):
 * the lock `{hostId}/{name}` is the blob `azure-webjobs-hosts/locks/{hostId}/{name}`, created
 * empty when it is missing; holding the lock is holding a lease on it (15 to 60 s, renewed by
 * the holder). A lease held by another instance (409) means "not now", not an error. An owner id,
 * when given, is written to the blob's `FunctionInstance` metadata under the lease, as the host
 * does for the primary host lock.
 */
import type { BlobServiceClient, BlockBlobClient, ContainerClient } from '@azure/storage-blob';

export const hostsContainer = 'azure-webjobs-hosts';
const locksDirectory = 'locks';
const ownerMetadataKey = 'FunctionInstance';

export interface HeldLock {
    readonly lockId: string;
    readonly leaseId: string;
    /** Renews the lease; rejects when it was lost (expired and taken by another instance). */
    renew(): Promise<void>;
    /** Gives the lease up (a lease that is gone already is not an error). */
    release(): Promise<void>;
}

export class BlobLockManager {
    readonly #container: ContainerClient;

    constructor(blobService: BlobServiceClient) {
        this.#container = blobService.getContainerClient(hostsContainer);
    }

    /** The lock, or undefined when another instance holds it. */
    async tryLock(
        lockId: string,
        periodMs: number,
        options: { proposedLeaseId?: string; owner?: string } = {},
    ): Promise<HeldLock | undefined> {
        const blob = this.#container.getBlockBlobClient(`${locksDirectory}/${lockId}`);
        const leaseId = await this.acquire(blob, Math.round(periodMs / 1000), options.proposedLeaseId);
        if (!leaseId) return undefined;
        if (options.owner) {
            await blob.setMetadata({ [ownerMetadataKey]: options.owner }, { conditions: { leaseId } });
        }
        const lease = blob.getBlobLeaseClient(leaseId);
        return {
            lockId,
            leaseId,
            renew: async () => {
                await lease.renewLease();
            },
            release: async () => {
                try {
                    await lease.releaseLease();
                } catch (error) {
                    // Gone, or leased by someone else by now: nothing of ours to release.
                    if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
                }
            },
        };
    }

    private async acquire(blob: BlockBlobClient, seconds: number, proposedLeaseId?: string) {
        try {
            return (await blob.getBlobLeaseClient(proposedLeaseId).acquireLease(seconds)).leaseId;
        } catch (error) {
            if (statusOf(error) === 409) return undefined;
            if (statusOf(error) !== 404) throw error;
        }
        await this.create(blob);
        try {
            return (await blob.getBlobLeaseClient(proposedLeaseId).acquireLease(seconds)).leaseId;
        } catch (error) {
            if (statusOf(error) === 409) return undefined;
            throw error;
        }
    }

    /** The empty lock blob (and the container, on first use); another instance creating it meanwhile is fine. */
    private async create(blob: BlockBlobClient): Promise<void> {
        const upload = () => blob.upload('', 0, { conditions: { ifNoneMatch: '*' } });
        try {
            await upload();
            return;
        } catch (error) {
            if (statusOf(error) === 409 || statusOf(error) === 412) return;
            if (statusOf(error) !== 404) throw error;
        }
        await this.#container.createIfNotExists();
        try {
            await upload();
        } catch (error) {
            if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
        }
    }
}

/**
 * Whether a failed renewal means the lease is gone for good (storage answered: another lease, no
 * lease, no blob) rather than that storage could not be reached (worth trying again soon).
 */
export function isLeaseLost(error: unknown): boolean {
    const status = statusOf(error);
    return status === 409 || status === 412 || status === 404;
}

function statusOf(error: unknown): number | undefined {
    return typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number'
        ? error.statusCode
        : undefined;
}
