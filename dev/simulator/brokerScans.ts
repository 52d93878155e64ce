/**
 * Broker's malware scans in progress. An upload to a transfer with UseVirusScan waits in
 * UploadProcessing until Defender for Storage reports on the blob (MalwareScanResultsController,
 * MalwareScanResultHandler); here that report comes after `delayMs`, clean, unless scans are held,
 * in which case a test (or the control API) gives each verdict itself.
 */
export type ScanVerdict = 'Clean' | 'Infected';

export class PendingScans {
    readonly #timers = new Map<string, NodeJS.Timeout>();
    readonly #pending = new Map<string, (verdict: ScanVerdict) => void>();
    #held = false;

    /** Holds every scan from now on (and those pending) until complete() is called for it. */
    hold(held: boolean): void {
        this.#held = held;
        if (held) {
            for (const timer of this.#timers.values()) clearTimeout(timer);
            this.#timers.clear();
        }
    }

    schedule(id: string, delayMs: number, report: (verdict: ScanVerdict) => void): void {
        this.#pending.set(id, report);
        if (this.#held) return;
        const timer = setTimeout(() => this.complete(id, 'Clean'), delayMs);
        timer.unref();
        this.#timers.set(id, timer);
    }

    /** Reports the scan of `id` now; false when no scan of it is pending. */
    complete(id: string, verdict: ScanVerdict): boolean {
        const report = this.#pending.get(id);
        if (!report) return false;
        clearTimeout(this.#timers.get(id));
        this.#timers.delete(id);
        this.#pending.delete(id);
        report(verdict);
        return true;
    }

    stop(): void {
        for (const timer of this.#timers.values()) clearTimeout(timer);
        this.#timers.clear();
        this.#pending.clear();
        this.#held = false;
    }
}
