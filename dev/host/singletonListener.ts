/**
 * A listener that runs on one host instance at a time, as the Functions host runs timer triggers
 * and the blob scan (azure-webjobs-sdk, src/Microsoft.Azure.WebJobs.Host/Singleton/SingletonListener.cs
 * and SingletonManager.cs): at start it makes one attempt to take its lock; with the lock it starts
 * the inner listener and renews the lease halfway through each period; without it, it tries again
 * every listenerLockRecoveryPollingInterval, so that another instance takes over when the holder
 * stops or dies (its lease then runs out). A renewal storage could not answer is tried again a
 * second later (the host speeds its renewals up too); one storage refuses (the lease is another's
 * by now) stops the inner listener and goes back to trying. Stopping releases the lock, so the
 * next instance can take it at its next try.
 */
import { isLeaseLost, type BlobLockManager, type HeldLock } from './blobLocks';
import type { SingletonOptions } from './hostJson';
import { errorMessage, type HostLog } from './log';

/** The host's shortest renewal interval (SingletonManager.MinimumLeaseRenewalInterval). */
const retryRenewalAfterMs = 1_000;

export interface Listener {
    start(): void;
    stop(): Promise<void>;
}

export class SingletonListener {
    #lock: HeldLock | undefined;
    #renewal: NodeJS.Timeout | undefined;
    #recovery: NodeJS.Timeout | undefined;
    #listening = false;
    #stopped = false;
    /** Set while renewals fail, so that an outage is logged once, not every second. */
    #renewalFailing = false;
    /** The lock work under way (acquire, renew, lose), so that stop() waits for it. */
    #busy: Promise<void> = Promise.resolve();

    constructor(
        /** `{hostId}/{name}.Listener`, as SingletonListener names it. */
        readonly lockId: string,
        private readonly locks: BlobLockManager,
        private readonly options: SingletonOptions,
        private readonly inner: Listener,
        private readonly log: HostLog,
    ) {}

    get isListening(): boolean {
        return this.#listening;
    }

    /** One attempt now; without the lock, the recovery polling keeps trying. */
    async start(): Promise<void> {
        await this.serialised(() => this.tryAcquire());
        if (!this.#lock && !this.#stopped) this.scheduleRecovery();
    }

    async stop(): Promise<void> {
        this.#stopped = true;
        clearTimeout(this.#recovery);
        clearTimeout(this.#renewal);
        await this.#busy;
        if (this.#listening) {
            this.#listening = false;
            await this.inner.stop();
        }
        const lock = this.#lock;
        this.#lock = undefined;
        if (lock) {
            await lock.release().catch((error: unknown) => this.report('releasing', error));
            this.log.line(`Singleton lock released (${this.lockId})`);
        }
    }

    private serialised(work: () => Promise<void>): Promise<void> {
        this.#busy = this.#busy.then(work, work);
        return this.#busy;
    }

    private async tryAcquire(): Promise<void> {
        if (this.#stopped || this.#lock) return;
        try {
            this.#lock = await this.locks.tryLock(this.lockId, this.options.listenerLockPeriodMs);
        } catch (error) {
            this.report('acquiring', error);
            return;
        }
        if (!this.#lock) return;
        this.log.line(`Singleton lock acquired (${this.lockId})`);
        this.scheduleRenewal();
        this.inner.start();
        this.#listening = true;
    }

    private scheduleRecovery(): void {
        if (this.#stopped) return;
        this.#recovery = setTimeout(() => {
            void this.serialised(() => this.tryAcquire()).then(() => {
                if (!this.#lock) this.scheduleRecovery();
            });
        }, this.options.listenerLockRecoveryPollingIntervalMs);
    }

    private scheduleRenewal(afterMs = this.options.listenerLockPeriodMs / 2): void {
        if (this.#stopped) return;
        this.#renewal = setTimeout(() => {
            void this.serialised(() => this.renew());
        }, afterMs);
    }

    private async renew(): Promise<void> {
        const lock = this.#lock;
        if (this.#stopped || !lock) return;
        try {
            await lock.renew();
            this.#renewalFailing = false;
            this.scheduleRenewal();
            return;
        } catch (error) {
            if (!this.#renewalFailing || isLeaseLost(error)) {
                this.log.line(`Singleton lock renewal failed for blob '${this.lockId}': ${errorMessage(error)}`);
            }
            this.#renewalFailing = true;
            if (!isLeaseLost(error)) {
                // Storage did not answer: a lease that ran out meanwhile can still be renewed if nobody took it.
                this.scheduleRenewal(retryRenewalAfterMs);
                return;
            }
        }
        // Lost: another instance may hold it now. Stop listening and wait for it to come free again.
        this.#lock = undefined;
        this.#renewalFailing = false;
        if (this.#listening) {
            this.#listening = false;
            await this.inner.stop();
        }
        this.scheduleRecovery();
    }

    private report(what: string, error: unknown): void {
        this.log.line(`Singleton lock ${this.lockId}: ${what} failed: ${errorMessage(error)}`);
    }
}
