/**
 * The catch-up: what Altinn Events failed to push (webhook down for longer than Altinn's retries,
 * a subscription not yet validated, events before the subscription existed) is fetched from the
 * Events query API and queued to events-inbound like a pushed event. The pipeline is idempotent,
 * so an event that arrives both ways costs a check, not a second download.
 *
 * Per app in CatchUpApps: GET {platform}/events/api/v1/app/{org}/{app}?after={cursor}&type=…&size=…
 * (on the very first run `from` = CatchUpFrom, or one day back when that is unset), queue each
 * event of the page, then move the cursor to the page's last event, then follow the `next` link
 * until a page comes back empty. The cursor moves only after its page is queued, so a crash queues
 * at most one page again; it is written conditionally (see cursor.ts), so a concurrent run that
 * loses the race stops instead of moving it backwards.
 */
import type { AppConfig, AppRef } from '../config';
import { AltinnHttpError } from '../altinn/errors';
import type { EventsApi } from '../altinn/events';
import { InvalidCloudEventError, parseCloudEvent } from '../cloudEvent';
import { viaAttribute } from '../ledger';
import { errorMessage, errorStep, logStep, warnStep, type StepLogger } from '../log';
import { containers, queues } from '../names';
import { maxQueuedTextBytes, type Storage } from '../storage';
import { storageStatus } from '../subscriptions/blobs';
import { CursorConflictError, CursorStore, type Cursor } from './cursor';

export interface CatchUpDeps {
    config: Pick<AppConfig, 'catchUpApps' | 'catchUpFrom' | 'processedEventTypes' | 'feedback'>;
    storage: Storage;
    events: EventsApi;
    now?: () => Date;
}

export interface CatchUpOptions {
    /** Events per query; default 100. */
    pageSize?: number;
    /** Pages per app and run before leaving the rest to the next run; default 200. */
    maxPages?: number;
    /** Events queued at once; default 16. */
    queueConcurrency?: number;
}

/** Where the first run starts when CatchUpFrom is unset: this long before the first run. */
export const defaultCatchUpWindowMs = 24 * 60 * 60 * 1000;
export const defaultPageSize = 100;
export const defaultMaxPages = 200;

export interface AppCatchUpResult {
    org: string;
    app: string;
    pages: number;
    /** Events queued to events-inbound. */
    queued: number;
    /** Events not queued: not a CloudEvent, or too large for a queue message (logged each). */
    skipped: number;
    /** The cursor after this run. */
    after?: string;
    from?: string;
    /** Why the run for this app ended. */
    stopped: 'caught-up' | 'page-limit' | 'conflict' | 'error';
    error?: unknown;
}

/** The event types the catch-up asks for: those the pipeline processes, and the feedback type. */
export function catchUpTypes(config: CatchUpDeps['config']): string[] {
    const types = [...config.processedEventTypes];
    if (config.feedback && !types.includes(config.feedback.eventType)) types.push(config.feedback.eventType);
    return types;
}

/** Runs the catch-up for every app in CatchUpApps, one log line per app; an app that fails does not stop the others. */
export async function runCatchUp(
    deps: CatchUpDeps,
    logger: StepLogger,
    options: CatchUpOptions = {},
): Promise<AppCatchUpResult[]> {
    const results: AppCatchUpResult[] = [];
    for (const app of deps.config.catchUpApps) {
        results.push(await catchUpApp(deps, app, logger, options));
    }
    return results;
}

export async function catchUpApp(
    deps: CatchUpDeps,
    { org, app }: AppRef,
    logger: StepLogger,
    options: CatchUpOptions = {},
): Promise<AppCatchUpResult> {
    const started = Date.now();
    const pageSize = options.pageSize ?? defaultPageSize;
    const maxPages = options.maxPages ?? defaultMaxPages;
    const now = deps.now ?? (() => new Date());
    const types = catchUpTypes(deps.config);
    const store = new CursorStore(deps.storage.container(containers.state));
    const result: AppCatchUpResult = { org, app, pages: 0, queued: 0, skipped: 0, stopped: 'caught-up' };
    let cursor: Cursor | undefined;

    try {
        const stored = await store.read(org, app);
        let etag = stored.etag;
        cursor = stored.cursor;
        if (cursor?.types && cursor.types.join(',') !== types.join(',')) {
            warnStep(logger, 'catch-up-types-changed', {
                org,
                app,
                was: cursor.types.join(','),
                now: types.join(','),
                note: 'events of a new type are fetched from the cursor on; edit or delete the cursor to go back',
            });
        }
        if (!cursor) {
            // The first run: fix the start time now, so that the window does not slide while nothing happens.
            const from = deps.config.catchUpFrom ?? new Date(now().getTime() - defaultCatchUpWindowMs);
            cursor = { from: from.toISOString(), types, updated: now().toISOString() };
            etag = await store.write(org, app, cursor, undefined);
        }

        let url = deps.events.appEventsUrl(org, app, {
            after: cursor.after,
            from: cursor.after === undefined && cursor.from !== undefined ? new Date(cursor.from) : undefined,
            types,
            size: pageSize,
        });
        for (;;) {
            if (result.pages >= maxPages) {
                result.stopped = 'page-limit';
                break;
            }
            const page = await deps.events.queryAppEvents(url, logger);
            result.pages++;
            if (page.events.length === 0) break;

            const { queued, skipped, lastId } = await queuePage(deps.storage, page.events, logger, options);
            result.queued += queued;
            result.skipped += skipped;
            if (lastId === undefined) break; // a page without a single event id: nothing to continue after
            cursor = { after: lastId, types, updated: now().toISOString() };
            etag = await store.write(org, app, cursor, etag);
            url = page.next ?? deps.events.appEventsUrl(org, app, { after: lastId, types, size: pageSize });
        }
    } catch (error) {
        if (error instanceof CursorConflictError) {
            result.stopped = 'conflict';
        } else {
            result.stopped = 'error';
            result.error = error;
        }
    }
    result.after = cursor?.after;
    result.from = cursor?.after === undefined ? cursor?.from : undefined;

    const fields = {
        org,
        app,
        pages: result.pages,
        queued: result.queued,
        skipped: result.skipped,
        after: result.after,
        from: result.from,
        stopped: result.stopped,
        durationMs: Date.now() - started,
    };
    if (result.stopped === 'error') {
        errorStep(logger, 'catch-up', { ...fields, ...explain(result.error, cursor, deps.config) });
    } else {
        logStep(logger, 'catch-up', fields);
    }
    return result;
}

async function queuePage(
    storage: Storage,
    events: unknown[],
    logger: StepLogger,
    options: CatchUpOptions,
): Promise<{ queued: number; skipped: number; lastId?: string }> {
    let lastId: string | undefined;
    const toQueue: { id: string; text: string }[] = [];
    let skipped = 0;
    for (const item of events) {
        const id = (item as { id?: unknown } | null)?.id;
        if (typeof id === 'string' && id !== '') lastId = id;
        let text: string;
        try {
            // Marked as the catch-up's, for the ledger's "first seen via".
            text = JSON.stringify({ ...parseCloudEvent(item), [viaAttribute]: 'catchup' });
        } catch (error) {
            skipped++;
            const detail = error instanceof InvalidCloudEventError ? error.detail : errorMessage(error);
            errorStep(logger, 'catch-up-skipped', { eventId: typeof id === 'string' ? id : undefined, detail });
            continue;
        }
        if (Buffer.byteLength(text) > maxQueuedTextBytes) {
            skipped++;
            errorStep(logger, 'catch-up-skipped', {
                eventId: id as string,
                detail: `${Buffer.byteLength(text)} bytes: larger than a queue message can hold`,
            });
            continue;
        }
        toQueue.push({ id: id as string, text });
    }
    await forEachLimit(toQueue, options.queueConcurrency ?? 16, (event) => enqueue(storage, event.text));
    return { queued: toQueue.length, skipped, lastId };
}

/** Queues to events-inbound; creates the queue if it does not exist yet (Bicep and the host create it otherwise). */
async function enqueue(storage: Storage, text: string): Promise<void> {
    try {
        await storage.enqueue(queues.eventsInbound, text);
    } catch (error) {
        if (storageStatus(error) !== 404) throw error;
        await storage.queue(queues.eventsInbound).createIfNotExists();
        await storage.enqueue(queues.eventsInbound, text);
    }
}

async function forEachLimit<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < items.length) {
            const item = items[next++];
            await work(item);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Log fields that say what went wrong and which setting (or the cursor) to look at. */
function explain(
    error: unknown,
    cursor: Cursor | undefined,
    config: CatchUpDeps['config'],
): Record<string, string | number | undefined> {
    const fields: Record<string, string | number | undefined> = { error: errorMessage(error) };
    if (!(error instanceof AltinnHttpError)) return fields;
    fields.status = error.status;
    fields.detail = error.problem?.detail ?? error.bodyText;
    if (error.status === 400) {
        const detail = String(fields.detail ?? '');
        if (/from/i.test(detail) && cursor?.after === undefined) {
            fields.setting = config.catchUpFrom ? 'CatchUpFrom' : 'the cursor blob (aos-state/catch-up/…)';
        } else if (/after/i.test(detail)) {
            fields.setting = 'the cursor blob (aos-state/catch-up/…)';
        } else if (/type/i.test(detail)) {
            fields.setting = 'ProcessedEventTypes / FeedbackEventType';
        } else {
            fields.setting = 'CatchUpApps';
        }
    } else if (error.status === 401 || error.status === 403) {
        fields.setting = 'MaskinportenScopes (the query API needs an org token: altinn:serviceowner scopes)';
    }
    return fields;
}
