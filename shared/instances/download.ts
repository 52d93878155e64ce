/**
 * Storing one instance: GET the instance from the app API, stream every data element that is
 * not already stored into its blob (a bounded number at once; an element Altinn scanned as
 * Infected into container `quarantine`), write manifest.json with every element's size and
 * SHA-256, then write instance.json LAST, so that its presence means the whole instance is stored.
 *
 * Before anything is stored, Altinn's document decides whether there is anything to do: a version
 * already stored, confirmed and handed off is left as it is (`already-done`), and an instance whose
 * process has not ended is not stored for a completed event (`not-ended`).
 *
 * An element already stored (same lastChanged, size and SHA-256 in its blob's metadata) is kept,
 * also when instance.json was never written (a retry resumes where the last attempt stopped). No
 * write puts an older version over a newer one (store.ts); a copy of the instance older than what
 * is stored fails the attempt (StaleSnapshotError), and the retry fetches the current document.
 *
 * Refusals happen before any data request: a data link outside the platform and apps origins,
 * one that does not point at its own element, or an instance document that is not the instance
 * the event names fails the message without a byte downloaded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobRequestConditions } from '@azure/storage-blob';
import type { DataElement, FetchedInstance, Instance } from '../altinn/apps';
import { AltinnHttpError } from '../altinn/errors';
import { redactUrl } from '../altinn/origins';
import { backoffDelay, defaultBackoff, errorCode, isTransientCode } from '../altinn/retry';
import { errorStep, logStep, warnStep } from '../log';
import { decodeMetadataValue, encodeMetadataValue } from './layout';
import type { Manifest, ManifestElement } from './manifest';
import { manifestEntry, placeOf } from './manifestEntry';
import type { InstanceEvent, Pipeline } from './pipeline';
import { pendingScans } from './scanWait';
import { isGuid, type InstanceRef } from './source';
import { mayBeStoredAlready } from './storedBefore';
import { ByteCountError, isConflict, type BlobInfo, type DescribingWrite, type StoredInstance } from './store';
import { compareChangeTimes, hasEnded, instanceVersion } from './version';

export type StoreOutcome =
    | { kind: 'gone' }
    /** This version is stored, confirmed and handed off (StoreOptions.settled said so); nothing was done. */
    | { kind: 'already-done'; version: string }
    /** The process has not ended, and confirmation was to follow: nothing was stored. */
    | { kind: 'not-ended'; instance: Instance }
    | { kind: 'scan-pending'; pending: DataElement[] }
    | StoredOutcome;

export interface StoredOutcome {
    kind: 'stored' | 'unchanged';
    elements: number;
    bytes: number;
    downloaded: number;
    /** When instance.json was written (for an unchanged instance: by the run that stored it). */
    storedAt: Date;
    /** The manifest just written (absent for an unchanged instance: it is in manifest.json). */
    manifest?: Manifest;
    /** The version stored (version.ts). */
    version: string;
    /** Altinn's document, as fetched: whether it is confirmed, its substatus. */
    fetched: FetchedInstance;
    /**
     * When another invocation wrote the instance.json that is there (this version; this one wrote
     * none): the event it did so for (its metadata `eventid`). See once.ts storedByAnotherCopy.
     */
    storedFor?: string;
}

export interface StoreOptions {
    /**
     * The event says the process completed and confirmation follows: an instance whose process has
     * not ended is not stored (kind 'not-ended'; processEnd.ts).
     */
    waitForEnd: boolean;
    /** Whether this version of the instance is stored, confirmed and handed off already. */
    settled?: (instance: Instance, version: string) => Promise<boolean>;
}

/**
 * The document fetched is older than what another processor stored meanwhile (an element's or the
 * instance's lastChanged there is later). Nothing older is written over it; the queue's retry
 * fetches the document again.
 */
export class StaleSnapshotError extends Error {
    constructor(instanceId: string, what: string) {
        super(`Instance ${instanceId}: ${what} is newer in the store than in the document fetched; fetching again`);
        this.name = 'StaleSnapshotError';
    }
}

/** A data element the instance lists but Altinn no longer serves (404): nothing may be confirmed. */
export class DataElementGoneError extends Error {
    constructor(
        readonly dataElementId: string,
        readonly instanceId: string,
        url: string,
    ) {
        super(`Data element ${dataElementId} of instance ${instanceId} is gone: ${url} answered 404`);
        this.name = 'DataElementGoneError';
    }
}

/** The instance document does not belong to the event's instance, or describes its data unusably. */
export class InstanceDocumentError extends Error {
    constructor(instanceId: string, problem: string) {
        super(`Instance ${instanceId}: ${problem}`);
        this.name = 'InstanceDocumentError';
    }
}

/** In-place attempts for one element whose body broke off (connection reset, truncated body). */
const MAX_ELEMENT_ATTEMPTS = 3;

export async function storeInstance(
    pipeline: Pipeline,
    message: InstanceEvent,
    options: StoreOptions = { waitForEnd: false },
): Promise<StoreOutcome> {
    const { apps, store, logger, config } = pipeline;
    const { ref, fields } = message;
    const started = Date.now();

    const fetched = await apps.getInstance(ref.url, { logger });
    if (!fetched) {
        warnStep(logger, 'instance-gone', {
            ...fields,
            reason: 'the app API answered 404; nothing to store or confirm',
        });
        return { kind: 'gone' };
    }
    const { instance, text } = fetched;
    const version = instanceVersion(instance);
    if (await options.settled?.(instance, version)) return { kind: 'already-done', version };
    if (options.waitForEnd && !hasEnded(instance.process)) return { kind: 'not-ended', instance };
    const elements = instance.data ?? [];
    logStep(logger, 'instance-fetched', {
        ...fields,
        elements: elements.length,
        bytes: Buffer.byteLength(text),
        durationMs: Date.now() - started,
    });
    const links = checkInstance(instance, ref, (element) => apps.dataLink(element));
    // Nothing is stored while Altinn still scans an element: an Infected verdict must keep it out of inbound.
    const scanning = pendingScans(elements);
    if (scanning.length > 0) return { kind: 'scan-pending', pending: scanning };

    await store.ensureContainer();
    const plan = await planStore(pipeline, ref, elements, mayBeStoredAlready(instance, message, config));
    const totalBytes = elements.reduce((sum, element) => sum + element.size, 0);
    if (plan.pending.length === 0 && plan.stored?.version === version) {
        logStep(logger, 'instance-unchanged', {
            ...fields,
            elements: elements.length,
            bytes: totalBytes,
            durationMs: Date.now() - started,
        });
        return {
            kind: 'unchanged',
            elements: elements.length,
            bytes: totalBytes,
            downloaded: 0,
            storedAt: plan.stored.storedAt ?? new Date(),
            version,
            fetched,
            storedFor: plan.stored.eventId,
        };
    }

    const entries = new Map(plan.kept);
    await forEachLimited(plan.pending, config.downloadConcurrency, async ({ element, conditions }, signal) => {
        const link = links.get(element.id)!;
        entries.set(element.id, await downloadElement(pipeline, message, element, link, conditions, signal));
    });

    const storedAt = new Date();
    const manifest: Manifest = {
        instanceId: ref.instanceId,
        org: ref.org,
        app: ref.app,
        storedAt: storedAt.toISOString(),
        lastChanged: instance.lastChanged ?? null,
        version,
        elements: elements.map((element) => entries.get(element.id)!),
    };
    const described = { version, lastChanged: instance.lastChanged ?? null };
    keepNewer(ref, 'manifest.json', await store.writeManifest(ref, manifest, described), version);
    const written = await store.writeInstance(
        ref,
        text,
        {
            eventid: encodeMetadataValue(message.event.id),
            storedat: storedAt.toISOString(),
            elements: String(elements.length),
            bytes: String(totalBytes),
        },
        described,
    );
    keepNewer(ref, 'instance.json', written, version);
    logStep(logger, 'instance-stored', {
        ...fields,
        elements: elements.length,
        downloaded: plan.pending.length,
        bytes: totalBytes,
        instanceBytes: written.bytes,
        version,
        ...(written.outcome === 'written' ? {} : { alreadyThere: written.outcome }),
        durationMs: Date.now() - started,
    });
    return {
        kind: 'stored',
        elements: elements.length,
        bytes: totalBytes,
        downloaded: plan.pending.length,
        storedAt,
        manifest,
        version,
        fetched,
        storedFor: written.outcome === 'written' ? undefined : written.storedEventId,
    };
}

/**
 * A describing blob that another processor wrote meanwhile is fine when it is the same version;
 * a newer one of another version means this copy is stale.
 */
function keepNewer(ref: InstanceRef, name: string, write: DescribingWrite, version: string): void {
    if (write.outcome === 'newer' && write.storedVersion !== version) {
        throw new StaleSnapshotError(ref.instanceId, `${name} (another version)`);
    }
}

/**
 * Checks that the document is the event's instance and that every element can be stored and
 * fetched safely: a GUID id (it becomes a blob name) and a link on the platform or apps origin
 * that points at this very element. Returns each element's link.
 */
function checkInstance(instance: Instance, ref: InstanceRef, linkOf: (element: DataElement) => URL): Map<string, URL> {
    if (instance.id.toLowerCase() !== ref.instanceId || instance.appId !== `${ref.org}/${ref.app}`) {
        throw new InstanceDocumentError(
            ref.instanceId,
            `the app API answered with instance ${instance.id} of ${instance.appId}, not the one the event names`,
        );
    }
    const links = new Map<string, URL>();
    for (const element of instance.data ?? []) {
        if (!isGuid(element.id)) {
            throw new InstanceDocumentError(ref.instanceId, `data element id "${element.id}" is not a GUID`);
        }
        const link = linkOf(element);
        const tail = `/${ref.partyId}/${ref.instanceGuid}/data/${element.id.toLowerCase()}`;
        if (!link.pathname.toLowerCase().endsWith(tail)) {
            throw new InstanceDocumentError(
                ref.instanceId,
                `the link of data element ${element.id} (${redactUrl(link)}) does not point at that element`,
            );
        }
        links.set(element.id, link);
    }
    return links;
}

interface PendingElement {
    element: DataElement;
    /** Create (If-None-Match: *) where nothing is stored, replace (If-Match) the very blob found otherwise. */
    conditions: BlobRequestConditions;
}

interface StorePlan {
    pending: PendingElement[];
    kept: Map<string, ManifestElement>;
    /** instance.json as stored: its version, when it was stored, and for which event. */
    stored?: { version: string; storedAt?: Date; eventId?: string };
}

/**
 * What is to be downloaded. On a first delivery (`lookInStore` false, see storedBefore.ts) nothing
 * is read: every element is created, and one that exists already (another processor got there
 * first) is looked at then. Otherwise every element's blob is looked at (one HEAD each), whether
 * or not instance.json exists, and kept when it holds this very version: its metadata `lastchanged`
 * is the element's, with the element's size and a `sha256` (a blob written before elements carried
 * `lastchanged` is kept when the stored instance.json lists it with the same lastChanged). A blob
 * of a later lastChanged means this document is stale. instance.json is read for its version.
 */
async function planStore(
    { store }: Pipeline,
    ref: InstanceRef,
    elements: DataElement[],
    lookInStore: boolean,
): Promise<StorePlan> {
    if (!lookInStore) {
        return { pending: elements.map((element) => ({ element, conditions: { ifNoneMatch: '*' } })), kept: new Map() };
    }
    const stored = await store.readInstance(ref);
    const listed = storedElementVersions(stored);
    const blobs = await Promise.all(elements.map((element) => store.dataInfo(ref, element.id, placeOf(element))));
    const kept = new Map<string, ManifestElement>();
    const pending: PendingElement[] = [];
    elements.forEach((element, index) => {
        const blob = blobs[index];
        if (heldVersion(ref, element, blob, listed) === 'this') {
            kept.set(element.id, manifestEntry(ref, element, holding(blob!)));
        } else {
            pending.push({ element, conditions: blob ? { ifMatch: blob.etag } : { ifNoneMatch: '*' } });
        }
    });
    return {
        pending,
        kept,
        stored: stored && {
            version: storedVersion(stored),
            storedAt: storedAtOf(stored),
            eventId: decodeMetadataValue(stored.metadata.eventid),
        },
    };
}

/** Which version of the element a blob holds: this one, an older (or unknown) one, or none. */
function heldVersion(
    ref: InstanceRef,
    element: DataElement,
    blob: BlobInfo | undefined,
    listed: Map<string, string>,
): 'this' | 'other' | 'none' {
    if (!blob) return 'none';
    const complete = blob.contentLength === element.size && Boolean(blob.metadata.sha256);
    const lastChanged = decodeMetadataValue(blob.metadata.lastchanged);
    if (lastChanged === undefined) {
        // Stored before data blobs carried their element's lastChanged: instance.json says which version it is.
        const sameAsListed = Boolean(element.lastChanged) && listed.get(element.id) === element.lastChanged;
        return complete && sameAsListed ? 'this' : 'other';
    }
    const order = compareChangeTimes(lastChanged, element.lastChanged);
    if (order > 0) throw new StaleSnapshotError(ref.instanceId, `data element ${element.id}`);
    return order === 0 && complete ? 'this' : 'other';
}

function holding(blob: BlobInfo): { size: number; sha256: string } {
    return { size: blob.contentLength, sha256: blob.metadata.sha256 };
}

/** The lastChanged of each element the stored instance.json lists. */
function storedElementVersions(stored: StoredInstance | undefined): Map<string, string> {
    const listed = new Map<string, string>();
    if (!stored) return listed;
    try {
        const document = JSON.parse(stored.text) as Instance;
        for (const element of document.data ?? []) {
            if (typeof element?.id === 'string' && typeof element.lastChanged === 'string') {
                listed.set(element.id, element.lastChanged);
            }
        }
    } catch {
        // An unreadable document is as good as none: every element is compared by its own metadata.
    }
    return listed;
}

/** The stored instance.json's version: its metadata, or (written before versions were) computed from the document. */
function storedVersion(stored: StoredInstance): string {
    if (stored.metadata.version) return stored.metadata.version;
    try {
        return instanceVersion(JSON.parse(stored.text) as Instance);
    } catch {
        return '';
    }
}

function storedAtOf(stored: StoredInstance): Date | undefined {
    const storedAt = stored.metadata.storedat ? new Date(stored.metadata.storedat) : undefined;
    return storedAt && !Number.isNaN(storedAt.getTime()) ? storedAt : undefined;
}

/**
 * Streams one element into its blob; a body that breaks off mid-way is fetched again a few times
 * within the budget. Resolves with its manifest entry.
 */
async function downloadElement(
    { apps, store, logger, config }: Pipeline,
    message: InstanceEvent,
    element: DataElement,
    link: URL,
    conditions: BlobRequestConditions,
    signal: AbortSignal,
): Promise<ManifestElement> {
    const { ref, fields } = message;
    const deadline = Date.now() + config.httpRetryBudgetMs;
    for (let attempt = 1; ; attempt++) {
        const started = Date.now();
        try {
            const stream = await apps.openDataStream(link, { logger, signal });
            if (!stream) throw new DataElementGoneError(element.id, ref.instanceId, redactUrl(link));
            if (stream.contentLength !== undefined && stream.contentLength !== element.size) {
                stream.body.destroy();
                throw new ByteCountError(element.id, element.size, stream.contentLength, true);
            }
            const place = placeOf(element);
            let written: { bytes: number; sha256: string };
            try {
                written = await store.storeData(ref, element, stream.body, signal, place, conditions);
            } catch (error) {
                if (!isConflict(error)) throw error;
                // Another processor stored the element meanwhile: its blob is as good when it is this version.
                const blob = await store.dataInfo(ref, element.id, place);
                if (heldVersion(ref, element, blob, new Map()) !== 'this') throw error;
                logStep(logger, 'data-kept', {
                    ...fields,
                    dataElementId: element.id,
                    reason: 'another processor stored this version of the element meanwhile',
                });
                return manifestEntry(ref, element, holding(blob!));
            }
            const { bytes, sha256 } = written;
            if (place === 'quarantine') {
                errorStep(logger, 'infected', {
                    ...fields,
                    dataElementId: element.id,
                    dataType: element.dataType,
                    container: 'quarantine',
                    reason: "Altinn's malware scan found the element Infected; its bytes are kept out of inbound",
                });
            }
            logStep(logger, 'data-stored', {
                ...fields,
                dataElementId: element.id,
                dataType: element.dataType,
                bytes,
                sha256,
                ...(place === 'quarantine' ? { container: 'quarantine' } : {}),
                durationMs: Date.now() - started,
                ...(attempt > 1 ? { try: attempt } : {}),
            });
            return manifestEntry(ref, element, { size: bytes, sha256 });
        } catch (error) {
            const remaining = deadline - Date.now();
            if (signal.aborted || !brokeOff(error) || attempt >= MAX_ELEMENT_ATTEMPTS || remaining <= 0) throw error;
            const delayMs = Math.min(backoffDelay(attempt - 1, defaultBackoff), remaining);
            warnStep(logger, 'data-retry', {
                ...fields,
                dataElementId: element.id,
                code: errorCode(error),
                try: attempt,
                delayMs,
            });
            await sleep(delayMs, undefined, { signal });
        }
    }
}

/** The body stream failed mid-way for a reason that another attempt may not meet (the HTTP layer retried the rest). */
function brokeOff(error: unknown): boolean {
    return (
        !(error instanceof AltinnHttpError) && !(error instanceof ByteCountError) && isTransientCode(errorCode(error))
    );
}

/**
 * Runs `work` for every item, at most `limit` at once. On the first failure the others are
 * aborted (their signal fires), no new ones start, and that failure is thrown once all settled.
 */
async function forEachLimited<T>(
    items: readonly T[],
    limit: number,
    work: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
    const controller = new AbortController();
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
        while (!failure && next < items.length) {
            const item = items[next++];
            try {
                await work(item, controller.signal);
            } catch (error) {
                failure ??= { error };
                controller.abort(error);
            }
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    if (failure) throw failure.error;
}
