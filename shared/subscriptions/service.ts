/**
 * Altinn Events subscriptions managed through Blob Storage, as in the reference AOS:
 *
 *   add-subscriptions/{name}.json    a request (Altinn's subscription request JSON)
 *        -> POST {platform}/events/api/v1/subscriptions
 *        -> active-subscriptions/{name}.json  the subscription exactly as Altinn returned it (with its id)
 *   remove-subscriptions/{name}.json a copy of the active one, or just {"id": 123}, or anything
 *                                    without an id (then active-subscriptions/{name}.json names it)
 *        -> DELETE .../subscriptions/{id} (404 counts as already gone)
 *        -> the request and every active-subscriptions blob of that id are deleted
 *
 * A request refused, here by the same rules Altinn applies or by Altinn itself (4xx), is moved to
 * failed-subscriptions/{name}.json as {operation, name, request, error: {status?, message}, failedAt},
 * where the user dropped it, and the request blob is deleted. A transient failure (Altinn down,
 * 5xx, timeouts, a token that cannot be had) leaves the request blob in place for the next run.
 *
 * The same functions serve the timer functions (EventsSubscriber, EventsDeSubscriber) and the
 * CLI (`npm run aos -- subscriptions`).
 */
import type { AppConfig } from '../config';
import { AltinnHttpError } from '../altinn/errors';
import { isRefusal, type EventsApi, type Subscription } from '../altinn/events';
import { redactUrl } from '../altinn/origins';
import { errorMessage, errorStep, logStep, warnStep, type StepLogger } from '../log';
import { containers } from '../names';
import { redactPersonalData } from '../redact';
import type { Storage } from '../storage';
import { deleteIfExists, listNames, readText, withLease, writeJson } from './blobs';
import { SubscriptionRequestError, parseSubscriptionRequest } from './validate';

export interface SubscriptionDeps {
    config: Pick<AppConfig, 'appsBaseUrl' | 'platformBaseUrl'> & Partial<Pick<AppConfig, 'brokerResources'>>;
    storage: Storage;
    events: EventsApi;
    now?: () => Date;
}

export type Operation = 'add' | 'remove';

export interface FailedRecord {
    operation: Operation;
    name: string;
    /** The request as dropped: its JSON, or its text when it is not JSON. */
    request: unknown;
    error: { status?: number; message: string };
    failedAt: string;
}

export interface AddResult {
    name: string;
    subscription: Subscription;
    /** active-subscriptions/{name}.json */
    activeBlob: string;
}

export interface RemoveResult {
    id: number;
    /** What Altinn said: deleted now, or already gone (404). */
    altinn: 'deleted' | 'notFound';
    /** The active-subscriptions blobs deleted (those holding this id). */
    removedBlobs: string[];
}

/** add-subscriptions/{name}.json -> name; a blob without the .json suffix keeps its whole name. */
export function requestName(blobName: string): string {
    return blobName.replace(/\.json$/i, '');
}

export function activeBlobName(name: string): string {
    return `${name}.json`;
}

/**
 * Validates the request, registers it with Altinn and stores Altinn's answer as
 * active-subscriptions/{name}.json. Throws SubscriptionRequestError for a request refused here
 * (Altinn then receives no call), AltinnHttpError for Altinn's answers, anything else for the rest.
 */
export async function addSubscription(
    deps: SubscriptionDeps,
    name: string,
    requestText: string,
    logger?: StepLogger,
): Promise<AddResult> {
    const { body } = parseSubscriptionRequest(requestText, deps.config);
    const active = deps.storage.container(containers.activeSubscriptions);
    const activeBlob = activeBlobName(name);
    const existingText = await readText(active.getBlobClient(activeBlob));
    if (existingText !== undefined) {
        const existing = parseJsonObject(existingText);
        // The same request again (a re-dropped file, or a run that stopped before deleting the request) is fine:
        // Altinn answers an identical request with the existing subscription. Anything else would orphan one.
        if (!existing || !sameSubscription(body, existing)) {
            const id = existing && typeof existing.id === 'number' ? ` (id ${existing.id})` : '';
            throw new SubscriptionRequestError(
                `active-subscriptions/${activeBlob} already holds a different subscription${id}. Remove it first (remove-subscriptions/${activeBlob}) or choose another name.`,
            );
        }
    }
    const { subscription, text } = await deps.events.createSubscription(body, logger);
    await writeJson(active, activeBlob, text);
    return { name, subscription, activeBlob };
}

/** Which subscription a remove request names: its id field, or else active-subscriptions/{name}.json's. */
export async function resolveRemoveId(deps: SubscriptionDeps, name: string, requestText: string): Promise<number> {
    const trimmed = requestText.replace(/^\uFEFF/, '').trim();
    if (trimmed !== '') {
        let value: unknown;
        try {
            value = JSON.parse(trimmed);
        } catch (error) {
            throw new SubscriptionRequestError(`The file is not valid JSON (${errorMessage(error)}).`);
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
            throw new SubscriptionRequestError(
                'A remove request must be a JSON object: a copy of the active subscription, or {"id": <id>}.',
            );
        }
        const id = (value as { id?: unknown }).id;
        if (id !== undefined && id !== null) return parseId(id);
    }
    const activeText = await readText(
        deps.storage.container(containers.activeSubscriptions).getBlobClient(activeBlobName(name)),
    );
    const active = activeText === undefined ? undefined : parseJsonObject(activeText);
    if (active === undefined) {
        throw new SubscriptionRequestError(
            `The request has no id, and there is no active-subscriptions/${activeBlobName(name)} to take it from. Put {"id": <subscription id>} in the file.`,
        );
    }
    return parseId(active.id);
}

/** Deletes the subscription in Altinn (404: already gone), then every active-subscriptions blob holding its id. */
export async function removeSubscription(
    deps: SubscriptionDeps,
    id: number,
    logger?: StepLogger,
): Promise<RemoveResult> {
    const altinn = await deps.events.deleteSubscription(id, logger);
    const active = deps.storage.container(containers.activeSubscriptions);
    const removedBlobs: string[] = [];
    for (const blobName of await activeBlobsWithId(deps, id)) {
        if (await deleteIfExists(active.getBlobClient(blobName))) removedBlobs.push(blobName);
    }
    return { id, altinn, removedBlobs };
}

/** The active-subscriptions blobs whose subscription has this id. */
export async function activeBlobsWithId(deps: SubscriptionDeps, id: number): Promise<string[]> {
    const active = deps.storage.container(containers.activeSubscriptions);
    const found: string[] = [];
    for (const blobName of await listNames(active)) {
        const text = await readText(active.getBlobClient(blobName));
        if (text !== undefined && parseJsonObject(text)?.id === id) found.push(blobName);
    }
    return found;
}

/** Every active-subscriptions blob with the subscription it holds (undefined when unreadable). */
export async function activeBlobs(
    deps: SubscriptionDeps,
): Promise<{ blobName: string; subscription?: Subscription }[]> {
    const active = deps.storage.container(containers.activeSubscriptions);
    const result: { blobName: string; subscription?: Subscription }[] = [];
    for (const blobName of await listNames(active)) {
        const json = parseJsonObject((await readText(active.getBlobClient(blobName))) ?? '');
        result.push({ blobName, subscription: typeof json?.id === 'number' ? (json as Subscription) : undefined });
    }
    return result;
}

export interface RunSummary {
    /** Requests found in the container. */
    found: number;
    done: number;
    /** Moved to failed-subscriptions. */
    refused: number;
    /** Left in place for the next run (transient failure). */
    deferred: number;
    /** Leased by a concurrent run, or gone before this run got to it. */
    skipped: number;
}

/** EventsSubscriber: processes every request in add-subscriptions. */
export function processAddRequests(deps: SubscriptionDeps, logger: StepLogger): Promise<RunSummary> {
    return processContainer(deps, 'add', logger, async (name, text) => {
        const result = await addSubscription(deps, name, text, logger);
        logStep(logger, 'subscription-added', {
            name,
            id: result.subscription.id,
            endPoint: redactUrl(result.subscription.endPoint),
            sourceFilter: result.subscription.sourceFilter,
            resourceFilter: result.subscription.resourceFilter,
            typeFilter: result.subscription.typeFilter,
            validated: result.subscription.validated,
            blob: `${containers.activeSubscriptions}/${result.activeBlob}`,
        });
    });
}

/** EventsDeSubscriber: processes every request in remove-subscriptions. */
export function processRemoveRequests(deps: SubscriptionDeps, logger: StepLogger): Promise<RunSummary> {
    return processContainer(deps, 'remove', logger, async (name, text) => {
        const id = await resolveRemoveId(deps, name, text);
        const result = await removeSubscription(deps, id, logger);
        logStep(logger, 'subscription-removed', {
            name,
            id,
            altinn: result.altinn,
            removedBlobs: result.removedBlobs.join(',') || 'none',
        });
    });
}

async function processContainer(
    deps: SubscriptionDeps,
    operation: Operation,
    logger: StepLogger,
    handle: (name: string, text: string) => Promise<void>,
): Promise<RunSummary> {
    const source = deps.storage.container(
        operation === 'add' ? containers.addSubscriptions : containers.removeSubscriptions,
    );
    const summary: RunSummary = { found: 0, done: 0, refused: 0, deferred: 0, skipped: 0 };
    for (const blobName of await listNames(source)) {
        summary.found++;
        const name = requestName(blobName);
        const blob = source.getBlobClient(blobName);
        const outcome = await withLease(blob, async (leaseId) => {
            const text = await readText(blob);
            if (text === undefined) return 'skipped' as const;
            try {
                await handle(name, text);
            } catch (error) {
                if (!isRefused(error)) {
                    errorStep(logger, 'subscription-deferred', {
                        operation,
                        name,
                        blob: `${source.containerName}/${blobName}`,
                        error: errorMessage(error),
                        next: 'left in place; the next run tries again',
                    });
                    return 'deferred' as const;
                }
                const record = failedRecord(operation, name, text, error, deps.now?.() ?? new Date());
                await writeJson(
                    deps.storage.container(containers.failedSubscriptions),
                    activeBlobName(name),
                    `${JSON.stringify(record, null, 2)}\n`,
                );
                warnStep(logger, 'subscription-refused', {
                    operation,
                    name,
                    status: record.error.status,
                    error: record.error.message,
                    blob: `${containers.failedSubscriptions}/${activeBlobName(name)}`,
                });
                await deleteIfExists(blob, leaseId);
                return 'refused' as const;
            }
            await deleteIfExists(blob, leaseId);
            return 'done' as const;
        });
        if (!outcome.acquired) {
            logStep(logger, 'subscription-skipped', {
                operation,
                name,
                reason: outcome.reason === 'leased' ? 'being processed by another run' : 'gone',
            });
            summary.skipped++;
        } else {
            summary[outcome.result]++;
        }
    }
    return summary;
}

/** Refused for good (the request is wrong): local validation, or Altinn's 4xx other than 401/408/429. */
export function isRefused(error: unknown): boolean {
    return error instanceof SubscriptionRequestError || isRefusal(error);
}

/** A readable reason: the local rule, or what Altinn said (its messages are JSON-quoted strings). */
export function describeFailure(error: unknown): { status?: number; message: string } {
    if (error instanceof AltinnHttpError) {
        const said = altinnSaid(error);
        return {
            status: error.status,
            message: `Altinn answered ${error.status ?? error.code ?? 'with an error'}${said ? `: ${said}` : ''} (${error.method} ${error.url})`,
        };
    }
    return { message: errorMessage(error) };
}

function altinnSaid(error: AltinnHttpError): string | undefined {
    const problem = error.problem;
    if (problem) {
        const parts = [problem.title, problem.detail].filter((part) => typeof part === 'string' && part !== '');
        const errors = problem.errors ? JSON.stringify(problem.errors) : '';
        return [...parts, errors].filter(Boolean).join(': ') || JSON.stringify(problem);
    }
    const text = error.bodyText;
    if (!text) return undefined;
    try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === 'string') return parsed;
    } catch {
        // not a JSON string
    }
    return text;
}

function failedRecord(operation: Operation, name: string, text: string, error: unknown, now: Date): FailedRecord {
    let request: unknown = text;
    try {
        request = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch {
        // kept as text
    }
    const { status, message } = describeFailure(error);
    // The reason is shown on the status page and by `aos subscriptions list`: Altinn's answer may quote
    // the request's alternativeSubjectFilter (/person/{number}).
    return {
        operation,
        name,
        request,
        error: { status, message: redactPersonalData(message) },
        failedAt: now.toISOString(),
    };
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
    try {
        const value: unknown = JSON.parse(text.replace(/^\uFEFF/, ''));
        return typeof value === 'object' && value !== null && !Array.isArray(value)
            ? (value as Record<string, unknown>)
            : undefined;
    } catch {
        return undefined;
    }
}

function parseId(value: unknown): number {
    const id = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
    if (typeof id !== 'number' || !Number.isInteger(id) || id <= 0) {
        throw new SubscriptionRequestError(
            `The subscription id must be a positive whole number, not ${JSON.stringify(value)}.`,
        );
    }
    return id;
}

/**
 * Whether an active subscription is what this request registers: the fields Altinn keeps, normalised
 * as Altinn stores and compares them (SubscriptionRepository: ResourceFilter.ToLower(), SourceFilter
 * and EndPoint as Uri.AbsoluteUri), so that a re-dropped request matches the subscription it created.
 */
function sameSubscription(request: Record<string, unknown>, active: Record<string, unknown>): boolean {
    const absoluteUri = (value: unknown): string | undefined => {
        if (typeof value !== 'string') return undefined;
        try {
            return new URL(value).href;
        } catch {
            return value;
        }
    };
    const lowercase = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : undefined);
    const normalise: Record<string, (value: unknown) => unknown> = {
        endPoint: absoluteUri,
        sourceFilter: absoluteUri,
        resourceFilter: lowercase,
        typeFilter: (value) => value,
        subjectFilter: (value) => value,
    };
    for (const [field, normalised] of Object.entries(normalise)) {
        // Altinn derives subjectFilter from alternativeSubjectFilter.
        if (field === 'subjectFilter' && request.alternativeSubjectFilter !== undefined) continue;
        if (normalised(request[field]) !== normalised(active[field])) return false;
    }
    return (request.includeSubunits === true) === (active.includeSubunits === true);
}
