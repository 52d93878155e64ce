/**
 * A wait that can be cut short: pollers sleep between polls, and wake early when work finishes
 * (room for the next batch) or when the host stops.
 */
export class Sleeper {
    readonly #waiting = new Set<() => void>();

    sleep(ms: number): Promise<void> {
        return new Promise((resolve) => {
            const done = (): void => {
                clearTimeout(timer);
                this.#waiting.delete(done);
                resolve();
            };
            const timer = setTimeout(done, ms);
            this.#waiting.add(done);
        });
    }

    wake(): void {
        for (const done of [...this.#waiting]) done();
    }
}
