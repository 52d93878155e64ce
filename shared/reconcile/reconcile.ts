/**
 * Reconciliation: what no event brought (an event that never existed, expired from the Events
 * API, was pushed to a subscription that was never validated, died in a poison queue, or belongs
 * to an app missing from CatchUpApps) is found in Altinn Storage itself. Per app in ReconcileApps,
 * Storage is asked (altinn/storage.ts) for every instance that is complete and not confirmed by the
 * owner (`process.isComplete=true&excludeConfirmedBy={org}`) and, with feedback configured, every one
 * that waits in the feedback task (`process.currentTask={task}`: its process has not ended, so the
 * first query never finds it). Every page is walked, oldest first; a walk that stops at the page cap
 * says so (`step=reconcile-truncated`). Each instance the ledger does not show on its way
 * (requeue.ts) is queued to events-inbound as the CloudEvent Altinn would have pushed, marked
 * `aosvia: reconciliation`. The pipeline is idempotent: an instance already stored is checked (one
 * GET of the instance, no data download) and confirmed.
 *
 * Each run writes one line per app, which the unconfirmed-instance alert parses:
 * `step=reconcile-run app={org}/{app} found= queued= unconfirmed= oldestUnconfirmedHours= inFlight= scanPending= poisoned= settled=`
 * or, when Storage could not be read to the end, `step=reconcile-failed app={org}/{app} error=…`.
 */
import type { AppConfig, AppRef } from '../config';
import type { Instance } from '../altinn/apps';
import type { StorageApi } from '../altinn/storage';
import type { CloudEvent } from '../cloudEvent';
import { SourceRefusedError, parseInstanceSource } from '../instances/source';
import { instanceSubject, ledgerOf, recordRun, viaAttribute, type LedgerEntry } from '../ledger';
import { errorMessage, errorStep, logStep, warnStep, type StepLogger } from '../log';
import { queues } from '../names';
import type { Storage } from '../storage';
import { recordQueued, requeueDecision, type SkipReason } from './requeue';

export interface ReconcileDeps {
    config: Pick<AppConfig, 'reconcileApps' | 'appsBaseUrl'> & Partial<Pick<AppConfig, 'feedback' | 'scanWaitMs'>>;
    storage: Storage;
    altinnStorage: StorageApi;
    now?: () => Date;
}

export interface ReconcileOptions {
    /** List what would be queued, queue nothing, record no run. */
    dryRun?: boolean;
    /** Instances per Storage page; default Storage's own (100). */
    pageSize?: number;
    /** Pages per query, app and run before the walk stops (logged as reconcile-truncated). Default 1000. */
    maxPages?: number;
}

export interface AppReconcileResult {
    org: string;
    app: string;
    /** Instances Storage listed: complete (or waiting in the feedback task), and not confirmed by the owner. */
    found: number;
    queued: number;
    /** Listed, but left alone because the ledger shows them on their way, waiting for a scan, or poisoned. */
    skipped: Record<SkipReason, number>;
    /** Hours since the oldest of them completed (or entered the feedback task); 0 when none. */
    oldestUnconfirmedHours: number;
    /** The events queued (or, in a dry run, that would have been). */
    events: CloudEvent[];
    /** A query stopped at maxPages before its last page. */
    truncated: boolean;
    error?: unknown;
}

export const completedEventType = 'app.instance.process.completed';
const movedToPrefix = 'app.instance.process.movedTo.';
export const defaultMaxPages = 1000;

/** ScanWaitHours' default, for callers that do not pass the setting. */
const defaultScanWaitMs = 24 * 3_600_000;

interface InstanceQuery {
    name: 'complete' | 'feedback';
    firstPage: string;
    /** The event an instance of this query is queued as. */
    eventType: string;
}

/** Complete and unconfirmed; with feedback after a task event, also those waiting in that task. */
function queriesFor(deps: ReconcileDeps, org: string, app: string, pageSize?: number): InstanceQuery[] {
    const queries: InstanceQuery[] = [
        {
            name: 'complete',
            firstPage: deps.altinnStorage.unconfirmedInstancesUrl(org, app, pageSize),
            eventType: completedEventType,
        },
    ];
    const feedbackType = deps.config.feedback?.eventType;
    if (feedbackType?.startsWith(movedToPrefix)) {
        const task = feedbackType.slice(movedToPrefix.length);
        queries.push({
            name: 'feedback',
            firstPage: deps.altinnStorage.instancesInTaskUrl(org, app, task, pageSize),
            eventType: feedbackType,
        });
    }
    return queries;
}

/** Reconciles every app in ReconcileApps, one line per app; an app that fails does not stop the others. */
export async function runReconcile(
    deps: ReconcileDeps,
    logger: StepLogger,
    options: ReconcileOptions = {},
): Promise<AppReconcileResult[]> {
    const results: AppReconcileResult[] = [];
    for (const app of deps.config.reconcileApps) results.push(await reconcileApp(deps, app, logger, options));
    return results;
}

export async function reconcileApp(
    deps: ReconcileDeps,
    { org, app }: AppRef,
    logger: StepLogger,
    options: ReconcileOptions = {},
): Promise<AppReconcileResult> {
    const started = Date.now();
    const now = (deps.now ?? (() => new Date()))();
    const subject = `${org}/${app}`;
    const result: AppReconcileResult = {
        org,
        app,
        found: 0,
        queued: 0,
        skipped: { 'in-flight': 0, 'scan-pending': 0, poisoned: 0, settled: 0 },
        oldestUnconfirmedHours: 0,
        events: [],
        truncated: false,
    };
    const ledger = ledgerOf(deps.storage);
    const scanWaitMs = deps.config.scanWaitMs ?? defaultScanWaitMs;
    const seen = new Set<string>();
    let oldest: number | undefined;
    try {
        const entries = await ledgerEntries(deps, org, app, logger);
        for (const query of queriesFor(deps, org, app, options.pageSize)) {
            let url: string | undefined = query.firstPage;
            let pages = 0;
            for (; url && pages < (options.maxPages ?? defaultMaxPages); pages++) {
                const { instances, next } = await deps.altinnStorage.queryInstances(url, logger);
                for (const instance of instances) {
                    const id = String(instance.id ?? '').toLowerCase();
                    // Oldest first: an instance that changed during the walk comes again further on.
                    if (seen.has(id)) continue;
                    seen.add(id);
                    result.found++;
                    const since = waitingSince(instance);
                    if (since !== undefined) oldest = Math.min(oldest ?? since, since);
                    const entry = entries.get(id);
                    const decision = requeueDecision(entry, now, scanWaitMs);
                    if (!decision.queue) {
                        result.skipped[decision.reason]++;
                        continue;
                    }
                    const event = eventFor(instance, deps.config.appsBaseUrl, now, logger, query.eventType);
                    if (!event) continue;
                    result.events.push(event);
                    if (options.dryRun) continue;
                    await deps.storage.enqueueCreating(queues.eventsInbound, event);
                    const queuedSubject = instanceSubject(parseInstanceSource(event.source, deps.config.appsBaseUrl));
                    await recordQueued(ledger, logger, queuedSubject, entry, event.id, now);
                    result.queued++;
                }
                url = next;
            }
            if (url) {
                result.truncated = true;
                warnStep(logger, 'reconcile-truncated', {
                    app: subject,
                    query: query.name,
                    pages,
                    found: result.found,
                    detail: `Storage had more than ${pages} pages; the newest were not read this run (the oldest come first, and events bring the newest)`,
                });
            }
        }
    } catch (error) {
        result.error = error;
    }
    result.oldestUnconfirmedHours = oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest) / 3_600_000);
    if (options.dryRun) return result;

    if (result.error !== undefined) {
        errorStep(logger, 'reconcile-failed', { app: subject, error: errorMessage(result.error) });
    } else {
        logStep(logger, 'reconcile-run', {
            app: subject,
            found: result.found,
            queued: result.queued,
            unconfirmed: result.found,
            oldestUnconfirmedHours: result.oldestUnconfirmedHours.toFixed(1),
            inFlight: result.skipped['in-flight'],
            scanPending: result.skipped['scan-pending'],
            poisoned: result.skipped.poisoned,
            settled: result.skipped.settled,
        });
    }
    await recordRun(ledger, logger, {
        kind: 'reconciliation',
        subject,
        at: now,
        found: result.found,
        queued: result.queued,
        unconfirmed: result.found,
        oldestUnconfirmedHours: Number(result.oldestUnconfirmedHours.toFixed(1)),
        error: result.error === undefined ? undefined : errorMessage(result.error),
        durationMs: Date.now() - started,
    });
    return result;
}

/**
 * The app's unconfirmed ledger entries by instance id (queries of its partition). When the ledger
 * cannot be read, nothing is known to be on its way, and everything Storage lists is queued: the
 * pipeline is idempotent, so that costs requests, never a submission.
 */
async function ledgerEntries(
    deps: ReconcileDeps,
    org: string,
    app: string,
    logger: StepLogger,
): Promise<Map<string, LedgerEntry>> {
    try {
        const ledger = ledgerOf(deps.storage);
        const scope = { kind: 'instance' as const, org, app };
        // listUnconfirmed leaves out what is settled (gone, refused): those are asked for on their own.
        const [unconfirmed, settled] = await Promise.all([ledger.listUnconfirmed(scope), ledger.listSettled(scope)]);
        return new Map([...unconfirmed, ...settled].map((entry) => [entry.id.toLowerCase(), entry]));
    } catch (error) {
        warnStep(logger, 'reconcile-ledger-unreadable', {
            app: `${org}/${app}`,
            error: errorMessage(error),
            next: 'every unconfirmed instance is queued this run',
        });
        return new Map();
    }
}

/** When the instance's process ended, or entered its current task, or, lacking both, when it last changed (ms). */
function waitingSince(instance: Instance): number | undefined {
    const time = Date.parse(
        instance.process?.ended ?? instance.process?.currentTask?.started ?? instance.lastChanged ?? '',
    );
    return Number.isNaN(time) ? undefined : time;
}

/**
 * The event Altinn would have pushed for the instance (app-lib's app.instance.process.completed, or
 * app.instance.process.movedTo.{task} for one waiting in the feedback task: source the instance on
 * the apps origin, subject /party/{id}), with an id that is the same on every run, so that repeats
 * are recognisable. An instance whose id does not make an instance URL the pipeline accepts is
 * logged and left out.
 */
export function eventFor(
    instance: Instance,
    appsBaseUrl: string,
    now: Date,
    logger: StepLogger,
    type: string = completedEventType,
): CloudEvent | undefined {
    const [partyId = '', instanceGuid = ''] = String(instance.id ?? '').split('/');
    const [org = '', app = ''] = String(instance.appId ?? '').split('/');
    const source = `${appsBaseUrl}/${org}/${app}/instances/${partyId}/${instanceGuid}`;
    try {
        parseInstanceSource(source, appsBaseUrl);
    } catch (error) {
        if (!(error instanceof SourceRefusedError)) throw error;
        warnStep(logger, 'reconcile-skipped', { instanceId: instance.id, reason: error.reason });
        return undefined;
    }
    const completed = type === completedEventType;
    return {
        specversion: '1.0',
        id: completed
            ? `reconcile-${instanceGuid.toLowerCase()}`
            : `reconcile-${instanceGuid.toLowerCase()}-${type.slice(movedToPrefix.length).toLowerCase()}`,
        source,
        type,
        subject: `/party/${partyId}`,
        time: (completed ? instance.process?.ended : instance.process?.currentTask?.started) ?? now.toISOString(),
        resource: `urn:altinn:resource:app_${org}_${app}`,
        resourceinstance: `${partyId}/${instanceGuid.toLowerCase()}`,
        [viaAttribute]: 'reconciliation',
    };
}
