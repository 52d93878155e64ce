/**
 * The timer trigger: fires at each occurrence of the schedule (six-field NCRONTAB or TimeSpan),
 * and once at start when runOnStartup is set. Like the host's singleton timer, an occurrence
 * never overlaps a running invocation of the same function: the next occurrence is computed
 * when the previous invocation ends. The input is the host's timer object
 * (`{Schedule, ScheduleStatus: {Last, Next, LastUpdated}, IsPastDue}`), which the library
 * camel-cases. Schedule status lives in memory only (one host process is the singleton).
 */
import type { FunctionDefinition, TimerTriggerSpec } from './functions';
import type { Invoker } from './invoker';
import { errorMessage, type HostLog } from './log';
import { nextOccurrence } from './schedule';

/** DateTime.MinValue, which the host reports as `Last` before the first occurrence. */
const neverIso = '0001-01-01T00:00:00.000Z';
/** An occurrence that starts later than this is reported as past due. */
const pastDueAfterMs = 1000;
/** setTimeout cannot wait longer than 2^31-1 ms; longer waits are chained. */
const maxTimeoutMs = 2_147_483_647;

export class TimerScheduler {
    #timer: NodeJS.Timeout | undefined;
    #stopped = false;
    #lastIso = neverIso;
    #running: Promise<void> | undefined;

    constructor(
        private readonly fn: FunctionDefinition,
        private readonly spec: TimerTriggerSpec,
        private readonly invoker: Invoker,
        private readonly log: HostLog,
    ) {}

    /** The next occurrence after now (for the start-up listing). */
    next(): Date {
        return nextOccurrence(this.spec.schedule, new Date());
    }

    start(): void {
        if (this.spec.runOnStartup) {
            const now = new Date();
            this.#running = this.fire(now, now).then(() => this.scheduleNext());
        } else {
            this.scheduleNext();
        }
    }

    /** Runs the function now (admin API), outside the schedule. */
    runNow(): void {
        const now = new Date();
        void this.fire(now, now);
    }

    async stop(): Promise<void> {
        this.#stopped = true;
        clearTimeout(this.#timer);
        await this.#running;
    }

    private scheduleNext(): void {
        if (this.#stopped) return;
        let due: Date;
        try {
            due = nextOccurrence(this.spec.schedule, new Date());
        } catch (error) {
            this.log.line(`Timer for function '${this.fn.name}' has no next occurrence: ${errorMessage(error)}`);
            return;
        }
        this.waitUntil(due, () => {
            this.#running = this.fire(due, new Date()).then(() => this.scheduleNext());
        });
    }

    private waitUntil(due: Date, then: () => void): void {
        const remaining = due.getTime() - Date.now();
        if (remaining > maxTimeoutMs) {
            this.#timer = setTimeout(() => this.waitUntil(due, then), maxTimeoutMs);
        } else {
            this.#timer = setTimeout(then, Math.max(0, remaining));
        }
    }

    private async fire(scheduled: Date, now: Date): Promise<void> {
        if (this.#stopped) return;
        const nextIso = nextOccurrence(this.spec.schedule, scheduled).toISOString();
        const timer = {
            Schedule: { AdjustForDST: true },
            ScheduleStatus: { Last: this.#lastIso, Next: nextIso, LastUpdated: now.toISOString() },
            IsPastDue: now.getTime() - scheduled.getTime() > pastDueAfterMs,
        };
        this.#lastIso = scheduled.toISOString();
        await this.invoker.invoke(this.fn, {
            reason: `Timer fired at ${now.toISOString()}`,
            inputData: [{ name: this.fn.triggerBindingName, data: { json: JSON.stringify(timer) } }],
            triggerMetadata: {},
        });
    }
}
