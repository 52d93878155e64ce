/**
 * The timer trigger: fires at each occurrence of the schedule (six-field NCRONTAB or TimeSpan),
 * and once when it starts listening when runOnStartup is set. Like the host's timer listener, an
 * occurrence never overlaps a running invocation of the same function: the next occurrence is
 * computed when the previous invocation ends. The input is the host's timer object
 * (`{Schedule, ScheduleStatus: {Last, Next, LastUpdated}, IsPastDue}`), which the library
 * camel-cases. Across instances the host runs it as a singleton (SingletonListener wraps it: only
 * the lock holder starts it). With the schedule monitor (useMonitor; by default for schedules of a
 * minute or more) the status is kept in storage (scheduleMonitor.ts): an occurrence missed while no
 * instance listened runs at start, past due, and the next holder continues from the recorded Last.
 */
import type { FunctionDefinition, TimerTriggerSpec } from './functions';
import type { Invoker } from './invoker';
import { errorMessage, type HostLog } from './log';
import { matchesEveryMinute, nextOccurrence, type Schedule } from './schedule';
import type { ScheduleMonitor, ScheduleStatus } from './scheduleMonitor';

/** DateTime.MinValue, which the host reports as `Last` before the first occurrence. */
const neverIso = '0001-01-01T00:00:00.000Z';
/** An occurrence that starts later than this is reported as past due. */
const pastDueAfterMs = 1000;
/** setTimeout cannot wait longer than 2^31-1 ms; longer waits are chained. */
const maxTimeoutMs = 2_147_483_647;
/** A TimeSpan schedule shorter than this is not monitored, unless useMonitor says so (TimerSchedule.Create). */
const monitorFromIntervalMs = 60_000;

/**
 * Whether the timer keeps its status in storage: useMonitor when the registration sets it, else as
 * the host decides (TimerSchedule.Create and ShouldDisableScheduleMonitor in
 * Azure/azure-webjobs-sdk-extensions src/WebJobs.Extensions/Extensions/Timers/Scheduling/TimerSchedule.cs):
 * a TimeSpan under a minute is not monitored, and a cron schedule is not monitored only when every
 * field but the seconds matches everything and more than one occurrence falls within the next minute.
 * Everything else is, without computing occurrences far ahead (a yearly schedule cost this host tens
 * of milliseconds at each start).
 */
export function usesMonitor(schedule: Schedule, useMonitor: boolean | undefined, now = new Date()): boolean {
    if (useMonitor !== undefined) return useMonitor;
    if (schedule.kind === 'interval') return schedule.intervalMs >= monitorFromIntervalMs;
    if (!matchesEveryMinute(schedule)) return true;
    const minuteLater = now.getTime() + monitorFromIntervalMs;
    const first = nextOccurrence(schedule, now);
    return !(first.getTime() < minuteLater && nextOccurrence(schedule, first).getTime() < minuteLater);
}

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
        /** The schedule monitor, when this timer uses one. */
        private readonly monitor?: ScheduleMonitor,
    ) {}

    /** The name the host keys the schedule status by. */
    get timerName(): string {
        return `Host.Functions.${this.fn.name}`;
    }

    /** The next occurrence after now (for the start-up listing). */
    next(): Date {
        return nextOccurrence(this.spec.schedule, new Date());
    }

    /** Starts listening (again, after a stop: the singleton lock may come back). */
    start(): void {
        this.#stopped = false;
        this.#running = this.begin();
    }

    private async begin(): Promise<void> {
        const now = new Date();
        const status = await this.readStatus();
        if (status) this.#lastIso = status.Last;
        if (status && new Date(status.Next).getTime() < now.getTime()) {
            this.log.line(`Timer '${this.fn.name}' is past due (its occurrence at ${status.Next} did not run).`);
            await this.fire(new Date(status.Next), now);
        } else if (this.spec.runOnStartup) {
            await this.fire(now, now);
        }
        this.scheduleNext();
    }

    /** Runs the function now (admin API), outside the schedule and its status, on whichever instance is asked. */
    runNow(): void {
        const now = new Date();
        void this.invoke(now, now);
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
            if (this.#stopped) return;
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

    /** An occurrence of the schedule: invoked, then recorded as the last one. */
    private async fire(scheduled: Date, now: Date): Promise<void> {
        if (this.#stopped) return;
        const nextIso = await this.invoke(scheduled, now);
        this.#lastIso = scheduled.toISOString();
        await this.writeStatus({ Last: this.#lastIso, Next: nextIso, LastUpdated: new Date().toISOString() });
    }

    /** Invokes the function with the host's timer object; returns the next occurrence it names. */
    private async invoke(scheduled: Date, now: Date): Promise<string> {
        const nextIso = nextOccurrence(this.spec.schedule, scheduled).toISOString();
        const timer = {
            Schedule: { AdjustForDST: true },
            ScheduleStatus: { Last: this.#lastIso, Next: nextIso, LastUpdated: now.toISOString() },
            IsPastDue: now.getTime() - scheduled.getTime() > pastDueAfterMs,
        };
        await this.invoker.invoke(this.fn, {
            reason: `Timer fired at ${now.toISOString()}`,
            inputData: [{ name: this.fn.triggerBindingName, data: { json: JSON.stringify(timer) } }],
            triggerMetadata: {},
        });
        return nextIso;
    }

    private async readStatus(): Promise<ScheduleStatus | undefined> {
        try {
            return await this.monitor?.read(this.timerName);
        } catch (error) {
            this.log.line(`Function '${this.fn.name}' could not read its timer status: ${errorMessage(error)}`);
            return undefined;
        }
    }

    /** Best effort, as the host's monitor: a failed write is logged, the schedule goes on. */
    private async writeStatus(status: ScheduleStatus): Promise<void> {
        try {
            await this.monitor?.write(this.timerName, status);
        } catch (error) {
            this.log.line(
                `Function '${this.fn.name}' failed to update the timer trigger status: ${errorMessage(error)}`,
            );
        }
    }
}
