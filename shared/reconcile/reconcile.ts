/**
 * Reconciliation: what no event brought (an event that never existed, expired from the Events
 * API, was pushed to a subscription that was never validated, died in a poison queue, or belongs
 * to an app missing from CatchUpApps) is found in Altinn Storage itself. Per app in ReconcileApps,
 * every instance that is complete and not confirmed by the owner
 * (`process.isComplete=true&excludeConfirmedBy={org}`, see altinn/storage.ts) is queued to
 * events-inbound as the CloudEvent Altinn would have pushed, marked `aosvia: reconciliation`.
 * The pipeline is idempotent: an instance already stored is checked (one GET of the instance, no
 * data download) and confirmed; one being processed right now costs a second check.
 *
 * Each run writes one line per app, which the unconfirmed-instance alert parses:
 * `step=reconcile-run app={org}/{app} found= queued= unconfirmed= oldestUnconfirmedHours=`
 * or, when Storage could not be read to the end, `step=reconcile-failed app={org}/{app} error=…`.
 */
import type { AppConfig, AppRef } from '../config';
import type { Instance } from '../altinn/apps';
import type { StorageApi } from '../altinn/storage';
import type { CloudEvent } from '../cloudEvent';
import { SourceRefusedError, parseInstanceSource } from '../instances/source';
import { ledgerOf, recordRun, viaAttribute } from '../ledger';
import { errorMessage, errorStep, logStep, warnStep, type StepLogger } from '../log';
import { queues } from '../names';
import type { Storage } from '../storage';

export interface ReconcileDeps {
    config: Pick<AppConfig, 'reconcileApps' | 'appsBaseUrl'>;
    storage: Storage;
    altinnStorage: StorageApi;
    now?: () => Date;
}

export interface ReconcileOptions {
    /** List what would be queued, queue nothing, record no run. */
    dryRun?: boolean;
    /** Instances per Storage page; default Storage's own (100). */
    pageSize?: number;
    /** Pages per app and run; the rest waits for the next run. Default 100. */
    maxPages?: number;
}

export interface AppReconcileResult {
    org: string;
    app: string;
    /** Instances Storage listed: complete, and not confirmed by the owner. */
    found: number;
    queued: number;
    /** Hours since the oldest of them completed; 0 when none. */
    oldestUnconfirmedHours: number;
    /** The events queued (or, in a dry run, that would have been). */
    events: CloudEvent[];
    error?: unknown;
}

export const completedEventType = 'app.instance.process.completed';
export const defaultMaxPages = 100;

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
    const result: AppReconcileResult = { org, app, found: 0, queued: 0, oldestUnconfirmedHours: 0, events: [] };
    let oldest: number | undefined;
    try {
        let url: string | undefined = deps.altinnStorage.unconfirmedInstancesUrl(org, app, options.pageSize);
        for (let page = 0; url && page < (options.maxPages ?? defaultMaxPages); page++) {
            const { instances, next } = await deps.altinnStorage.queryInstances(url, logger);
            for (const instance of instances) {
                result.found++;
                const completed = completedAt(instance);
                if (completed !== undefined) oldest = Math.min(oldest ?? completed, completed);
                const event = eventFor(instance, deps.config.appsBaseUrl, now, logger);
                if (!event) continue;
                result.events.push(event);
                if (options.dryRun) continue;
                await deps.storage.enqueueCreating(queues.eventsInbound, event);
                result.queued++;
            }
            url = next;
        }
    } catch (error) {
        result.error = error;
    }
    result.oldestUnconfirmedHours = oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest) / 3_600_000);
    if (options.dryRun) return result;

    const subject = `${org}/${app}`;
    if (result.error !== undefined) {
        errorStep(logger, 'reconcile-failed', { app: subject, error: errorMessage(result.error) });
    } else {
        logStep(logger, 'reconcile-run', {
            app: subject,
            found: result.found,
            queued: result.queued,
            unconfirmed: result.found,
            oldestUnconfirmedHours: result.oldestUnconfirmedHours.toFixed(1),
        });
    }
    await recordRun(ledgerOf(deps.storage), logger, {
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

/** When the instance's process ended, or, lacking that, when it last changed (ms since the epoch). */
function completedAt(instance: Instance): number | undefined {
    const time = Date.parse(instance.process?.ended ?? instance.lastChanged ?? '');
    return Number.isNaN(time) ? undefined : time;
}

/**
 * The event Altinn would have pushed for the completed instance (app-lib's
 * app.instance.process.completed: source the instance on the apps origin, subject /party/{id}),
 * with an id that is the same on every run, so that repeats are recognisable. An instance whose
 * id does not make an instance URL the pipeline accepts is logged and left out.
 */
export function eventFor(
    instance: Instance,
    appsBaseUrl: string,
    now: Date,
    logger: StepLogger,
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
    return {
        specversion: '1.0',
        id: `reconcile-${instanceGuid.toLowerCase()}`,
        source,
        type: completedEventType,
        subject: `/party/${partyId}`,
        time: instance.process?.ended ?? now.toISOString(),
        resource: `urn:altinn:resource:app_${org}_${app}`,
        resourceinstance: `${partyId}/${instanceGuid.toLowerCase()}`,
        [viaAttribute]: 'reconciliation',
    };
}
