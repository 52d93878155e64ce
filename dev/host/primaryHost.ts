/**
 * Which instance of the app is the primary one, as the Functions host decides it
 * (azure-functions-host, src/WebJobs.Script/Host/PrimaryHostCoordinator.cs): every instance tries
 * every 5 seconds to lease the lock `{hostId}/host` for 15 seconds, proposing its instance id as the
 * lease id and recording it as the owner; the holder renews 3 seconds before the lease runs out and
 * logs `Host lock lease acquired by instance ID '<id>'.` once it has it. Nothing in this local host
 * depends on being primary; the line tells which of several instances on one storage holds it.
 */
import { createHash } from 'node:crypto';
import type { BlobLockManager, HeldLock } from './blobLocks';
import { errorMessage, type HostLog } from './log';

const leaseMs = 15_000;
const renewEveryMs = leaseMs - 3_000;
const retryEveryMs = 5_000;

export class PrimaryHostCoordinator {
    #lock: HeldLock | undefined;
    #timer: NodeJS.Timeout | undefined;
    #tick: Promise<void> = Promise.resolve();
    #stopped = false;

    constructor(
        private readonly hostId: string,
        private readonly instanceId: string,
        private readonly locks: BlobLockManager,
        private readonly log: HostLog,
    ) {}

    get isPrimary(): boolean {
        return this.#lock !== undefined;
    }

    start(): void {
        this.schedule(retryEveryMs);
    }

    async stop(): Promise<void> {
        this.#stopped = true;
        clearTimeout(this.#timer);
        await this.#tick;
        const lock = this.#lock;
        this.#lock = undefined;
        // Best effort, as the host: a lease left behind runs out by itself.
        await lock?.release().catch(() => undefined);
    }

    private schedule(ms: number): void {
        if (this.#stopped) return;
        this.#timer = setTimeout(() => {
            this.#tick = this.acquireOrRenew().then(() => this.schedule(this.#lock ? renewEveryMs : retryEveryMs));
        }, ms);
    }

    private async acquireOrRenew(): Promise<void> {
        if (this.#stopped) return;
        if (this.#lock) {
            try {
                await this.#lock.renew();
            } catch (error) {
                this.#lock = undefined;
                this.log.line(
                    `Failed to renew host lock lease: Another host has acquired the lease (${errorMessage(error)}).`,
                );
            }
            return;
        }
        try {
            this.#lock = await this.locks.tryLock(`${this.hostId}/host`, leaseMs, {
                proposedLeaseId: leaseIdOf(this.instanceId),
                owner: this.instanceId,
            });
        } catch {
            return; // not being primary is normal; the next tick tries again
        }
        if (this.#lock) this.log.line(`Host lock lease acquired by instance ID '${this.instanceId}'.`);
    }
}

/** A lease id must be a GUID; the instance id (any text) is hashed into one, the same for the same id. */
export function leaseIdOf(instanceId: string): string {
    const hex = createHash('sha256').update(instanceId).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
