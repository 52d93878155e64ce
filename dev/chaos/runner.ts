/**
 * Runs one scenario end to end: a fresh stack, submissions at an even pace over the window with the
 * scenario's failure in the middle, a bounded wait until every instance is confirmed or in poison,
 * then the measurement. The stack is always stopped; its folder (Azurite's data, host.log) is
 * removed unless asked to keep it or the scenario failed.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DevClient } from '../devClient';
import {
    confirmedIds,
    lookAtPoison,
    measure,
    poisonedIds,
    queuedMessages,
    type Measurement,
    type PoisonSeen,
} from './measure';
import {
    createSubmission,
    leadSeconds,
    toCreated,
    windowSeconds,
    type ChaosOptions,
    type Created,
    type Run,
    type Scenario,
} from './scenarios';
import { ChaosStack } from './stack';

export interface ScenarioResult extends Measurement {
    scenario: string;
    title: string;
    expectedPoison: number;
    notes: string[];
    seconds: number;
    /** lost = 0, no confirmation without data and nothing the scenario's verify found: what the exit code depends on. */
    ok: boolean;
    /** What the scenario's verify found wrong. */
    problems: string[];
    /** Where the host log and Azurite's data were kept, if they were. */
    keptIn?: string;
}

export interface RunnerOptions {
    /** A folder for the scenario's stack (created; removed afterwards unless kept). */
    workDir: string;
    client: DevClient;
    /** Keep the folder even when the scenario passed. */
    keep?: boolean;
    /** Progress lines. */
    say?: (line: string) => void;
    /** Called with the stack once it runs, so that a caller can stop it on Ctrl-C. */
    onStack?: (stack: ChaosStack | undefined) => void;
}

/** Default bound of the settle wait: enough for the slowest recovery path (Altinn's push retries, the catch-up). */
export function defaultSettleSeconds(options: ChaosOptions): number {
    return 60 + options.outageSeconds * 2 + options.instances * 0.5 + (options.realHold ? 660 : 0);
}

export async function runScenario(
    scenario: Scenario,
    options: ChaosOptions,
    runner: RunnerOptions,
): Promise<ScenarioResult> {
    const say = runner.say ?? (() => undefined);
    const workDir = join(runner.workDir, scenario.name);
    mkdirSync(workDir, { recursive: true });
    const started = Date.now();
    const app = `chaos-${scenario.name}`;
    const stack = await ChaosStack.start({
        workDir,
        client: runner.client,
        app,
        settings: scenario.settings?.(options) ?? {},
        simulator: {
            // Altinn's push retries (10 s, 30 s, 1 m, 5 m, ...) at 1/20, so that they fall within the run.
            timeScale: 0.05,
            eventsQueryDelaySeconds: 2,
            ...scenario.simulator?.(options),
        },
    });
    runner.onStack?.(stack);
    const notes: string[] = [];
    let submitting = 0;
    const run: Run = {
        stack,
        options,
        app,
        created: [],
        note: (text) => {
            notes.push(text);
            say(`  ${scenario.name}: ${text}`);
        },
        elapsed: () => (submitting ? ((Date.now() - submitting) / 1000).toFixed(1) : '0'),
    };
    let failed = true;
    try {
        say(`${scenario.name}: stack up in ${((Date.now() - started) / 1000).toFixed(1)} s; submitting`);
        await scenario.before?.(run);
        submitting = Date.now();
        const window = windowSeconds(options) * 1000;
        const submissions = (async () => {
            for (let index = 0; index < options.instances; index++) {
                const due = submitting + (index * window) / options.instances;
                if (due > Date.now()) await sleep(due - Date.now());
                const custom = scenario.create?.(run, index);
                const created: Created = custom ? await custom : toCreated(await createSubmission(run, index));
                run.created.push(created);
            }
        })();
        const disruption = (async () => {
            await sleep(leadSeconds(options) * 1000);
            await scenario.disrupt?.(run);
        })();
        for (const outcome of await Promise.allSettled([submissions, disruption])) {
            if (outcome.status === 'rejected') throw outcome.reason;
        }

        const seen: PoisonSeen = new Map();
        const settleSeconds = options.settleSeconds ?? defaultSettleSeconds(options);
        await settle(run, seen, settleSeconds, say);
        await scenario.after?.(run);
        const measured = await measure(run, seen);
        summarise(run, measured);
        const problems = (await scenario.verify?.(run)) ?? [];
        for (const problem of problems) run.note(`PROBLEM: ${problem}`);
        const ok = measured.lost.length === 0 && measured.confirmedWithoutData.length === 0 && problems.length === 0;
        failed = !ok;
        return {
            scenario: scenario.name,
            title: scenario.title,
            expectedPoison: scenario.expectedPoison(options),
            notes,
            seconds: (Date.now() - started) / 1000,
            ok,
            problems,
            keptIn: runner.keep || !ok ? workDir : undefined,
            ...measured,
        };
    } finally {
        await stack.stop();
        runner.onStack?.(undefined);
        if (failed) say(`${scenario.name}: host log and Azurite data kept in ${workDir}`);
        if (!runner.keep && !failed) rmSync(workDir, { recursive: true, force: true });
    }
}

/** Waits until every instance is confirmed or in poison and the instance queues are empty, or the bound passes. */
async function settle(run: Run, seen: PoisonSeen, seconds: number, say: (line: string) => void): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    let lastReport = Date.now();
    for (;;) {
        await lookAtPoison(run.stack.storage, seen);
        const confirmed = confirmedIds(run);
        const poisoned = poisonedIds(seen);
        const open = run.created.filter((c) => !confirmed.has(c.id) && !poisoned.has(c.id)).length;
        const queued = await queuedMessages(run.stack.storage);
        if (open === 0 && queued === 0) return;
        if (Date.now() > deadline) {
            run.note(
                `the settle wait of ${seconds} s ran out with ${open} instance(s) neither confirmed nor in poison and ${queued} message(s) queued`,
            );
            return;
        }
        if (Date.now() - lastReport > 10_000) {
            say(`  waiting: ${open} instance(s) open, ${queued} message(s) queued`);
            lastReport = Date.now();
        }
        await sleep(500);
    }
}

/** Facts every scenario reports: what the host logged and what Altinn's pushes went through. */
function summarise(run: Run, measured: Measurement): void {
    const { host, sim } = run.stack;
    const count = (pattern: RegExp) => host.matching(pattern).length;
    const catchUpQueued = host
        .matching(/step=catch-up .*queued=\d+/)
        .reduce((sum, line) => sum + Number(/queued=(\d+)/.exec(line)?.[1] ?? 0), 0);
    const deliveries = sim.counters().deliveries;
    let pushes = 0;
    let failedPushes = 0;
    for (const perEvent of Object.values(deliveries)) {
        for (const delivery of Object.values(perEvent)) {
            pushes += delivery.attempts;
            failedPushes += delivery.statuses.filter((s) => typeof s !== 'number' || s < 200 || s >= 300).length;
        }
    }
    run.note(
        [
            `Altinn pushed ${pushes} time(s), ${failedPushes} failed and were retried`,
            `receiver answered 503 ${count(/step=queue-failed/)} time(s)`,
            `catch-up queued ${catchUpQueued} event(s)`,
            `${count(/Executed 'Functions\.\w+' \(Failed/)} invocation(s) failed`,
            `${count(/step=instance-unchanged/)} duplicate(s) found already stored`,
            `${(measured.extraBytes / 1024).toFixed(0)} KiB served beyond one copy per element`,
        ].join('; '),
    );
    const { grantsIssued, exchanges, faultsApplied } = sim.counters();
    const faults = Object.values(faultsApplied).reduce((sum, n) => sum + n, 0);
    if (faults > 0) run.note(`${faults} fault(s) applied; ${grantsIssued} Maskinporten grants, ${exchanges} exchanges`);
    if (measured.badNotPoisoned.length > 0) {
        run.note(`meant for poison but not there (or confirmed): ${measured.badNotPoisoned.join(', ')}`);
    }
    if (measured.lost.length > 0) run.note(`LOST: ${measured.lost.join(', ')}`);
    for (const problem of measured.confirmedWithoutData) run.note(`CONFIRMED WITHOUT DATA: ${problem}`);
}
