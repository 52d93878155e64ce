/**
 * Storing one instance: GET the instance from the app API, stream every data element that is
 * not already stored into its blob (a bounded number at once), then write instance.json LAST,
 * so that its presence means the whole instance is stored.
 *
 * Refusals happen before any data request: a data link outside the platform and apps origins,
 * one that does not point at its own element, or an instance document that is not the instance
 * the event names fails the message without a byte downloaded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataElement, Instance } from '../altinn/apps';
import { AltinnHttpError } from '../altinn/errors';
import { redactUrl } from '../altinn/origins';
import { backoffDelay, defaultBackoff, errorCode, isTransientCode } from '../altinn/retry';
import { logStep, warnStep } from '../log';
import { encodeMetadataValue } from './layout';
import type { InstanceEvent, Pipeline } from './pipeline';
import { isGuid, type InstanceRef } from './source';
import { ByteCountError } from './store';

export type StoreOutcome =
    | { kind: 'gone' }
    | {
          kind: 'stored' | 'unchanged';
          elements: number;
          bytes: number;
          downloaded: number;
          /** When instance.json was written (for an unchanged instance: by the run that stored it). */
          storedAt: Date;
      };

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

export async function storeInstance(pipeline: Pipeline, message: InstanceEvent): Promise<StoreOutcome> {
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
    const elements = instance.data ?? [];
    logStep(logger, 'instance-fetched', {
        ...fields,
        elements: elements.length,
        bytes: Buffer.byteLength(text),
        durationMs: Date.now() - started,
    });
    const links = checkInstance(instance, ref, (element) => apps.dataLink(element));

    await store.ensureContainer();
    const pending = await elementsToDownload(pipeline, ref, elements);
    const totalBytes = elements.reduce((sum, element) => sum + element.size, 0);
    if (pending.length === 0 && pending.sameSet) {
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
            storedAt: pending.storedAt ?? new Date(),
        };
    }

    await forEachLimited(pending, config.downloadConcurrency, (element, signal) =>
        downloadElement(pipeline, message, element, links.get(element.id)!, signal),
    );

    const storedAt = new Date();
    const instanceBytes = await store.writeInstance(ref, text, {
        lastchanged: encodeMetadataValue(instance.lastChanged ?? ''),
        eventid: encodeMetadataValue(message.event.id),
        storedat: storedAt.toISOString(),
        elements: String(elements.length),
        bytes: String(totalBytes),
    });
    logStep(logger, 'instance-stored', {
        ...fields,
        elements: elements.length,
        downloaded: pending.length,
        bytes: totalBytes,
        instanceBytes,
        durationMs: Date.now() - started,
    });
    return { kind: 'stored', elements: elements.length, bytes: totalBytes, downloaded: pending.length, storedAt };
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

/**
 * The elements to download: all of them, unless instance.json is already stored, in which case
 * those with the same id and lastChanged there and a blob of the right size are skipped (the
 * instance's own lastChanged moves on with complete, so only the data elements are compared).
 * `sameSet` says whether the stored document lists exactly the same elements, `storedAt` when it was stored.
 */
async function elementsToDownload(
    { store }: Pipeline,
    ref: InstanceRef,
    elements: DataElement[],
): Promise<DataElement[] & { sameSet: boolean; storedAt?: Date }> {
    const stored = await store.readInstance(ref);
    const previous = new Map<string, string>();
    if (stored) {
        try {
            const document = JSON.parse(stored.text) as Instance;
            for (const element of document.data ?? []) {
                if (typeof element?.id === 'string' && typeof element.lastChanged === 'string') {
                    previous.set(element.id, element.lastChanged);
                }
            }
        } catch {
            // An unreadable document is as good as none: everything is downloaded again.
        }
    }
    const unchanged = await Promise.all(
        elements.map(async (element) => {
            if (!element.lastChanged || previous.get(element.id) !== element.lastChanged) return false;
            const blob = await store.dataInfo(ref, element.id);
            return blob?.contentLength === element.size;
        }),
    );
    const pending = elements.filter((_, index) => !unchanged[index]);
    const sameSet =
        stored !== undefined && previous.size === elements.length && elements.every((e) => previous.has(e.id));
    const storedAt = stored?.metadata.storedat ? new Date(stored.metadata.storedat) : undefined;
    return Object.assign(pending, {
        sameSet,
        storedAt: storedAt && !Number.isNaN(storedAt.getTime()) ? storedAt : undefined,
    });
}

/** Streams one element into its blob; a body that breaks off mid-way is fetched again a few times within the budget. */
async function downloadElement(
    { apps, store, logger, config }: Pipeline,
    message: InstanceEvent,
    element: DataElement,
    link: URL,
    signal: AbortSignal,
): Promise<void> {
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
            const bytes = await store.storeData(ref, element, stream.body, signal);
            logStep(logger, 'data-stored', {
                ...fields,
                dataElementId: element.id,
                dataType: element.dataType,
                bytes,
                durationMs: Date.now() - started,
                ...(attempt > 1 ? { try: attempt } : {}),
            });
            return;
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
