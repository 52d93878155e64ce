/**
 * What the three instance functions share: reading a queued event, refusing what can never
 * succeed (logged at error, the invocation completes, nothing is retried), logging a failure
 * before it goes back to the queue, handing the event on to the next queue, and the clients
 * they work with.
 */
import type { InvocationContext } from '@azure/functions';
import { RestError } from '@azure/storage-queue';
import { createAppsClient, type AppsClient } from '../altinn/apps';
import type { AltinnStack } from '../altinn';
import { InvalidCloudEventError, parseCloudEvent, type CloudEvent } from '../cloudEvent';
import type { AppConfig } from '../config';
import { errorMessage, errorStep, logStep, type LogFields, type StepLogger } from '../log';
import { containers, queues, type QueueName } from '../names';
import { instanceSubject, ledgerOf, type LedgerSubject, type LedgerWriter } from '../ledger';
import type { Services } from '../services';
import type { Storage } from '../storage';
import { SourceRefusedError, parseInstanceSource, type InstanceRef } from './source';
import { InstanceStore } from './store';

export interface QueuedEvent {
    event: CloudEvent;
    /**
     * The event as JSON text, to hand on. The Functions library JSON-parses queue messages before
     * the handler sees them, so this is JSON.stringify of what it parsed: every attribute and
     * extension, in the same order; only insignificant whitespace differs from the queued text.
     */
    text: string;
    /** Fields every log line of this invocation carries. */
    fields: LogFields;
}

export interface InstanceEvent extends QueuedEvent {
    ref: InstanceRef;
    /** The instance as the ledger knows it. */
    subject: LedgerSubject;
}

/** The clients a stage works with, and where it logs. */
export interface Pipeline {
    config: AppConfig;
    storage: Storage;
    apps: AppsClient;
    store: InstanceStore;
    logger: StepLogger;
    /** The ledger's writes for this invocation (they log a failure and never throw). */
    ledger: LedgerWriter;
}

const appsClients = new WeakMap<AltinnStack, AppsClient>();
const stores = new WeakMap<Storage, InstanceStore>();

/** The pipeline for one invocation; clients are made once per process (they hold pools and caches). */
export function pipelineFor(services: Services, logger: StepLogger): Pipeline {
    const { config, storage, altinn } = services;
    let apps = appsClients.get(altinn);
    if (!apps) {
        apps = createAppsClient(altinn.http, config, altinn.tokens);
        appsClients.set(altinn, apps);
    }
    let store = stores.get(storage);
    if (!store) {
        store = new InstanceStore(storage.container(containers.inbound));
        stores.set(storage, store);
    }
    return { config, storage, apps, store, logger, ledger: ledgerOf(storage).writer(logger) };
}

/**
 * The CloudEvent of a queue message, as the library hands it over (parsed JSON, or a string when
 * it was not JSON). The attempt number comes from triggerMetadata.dequeueCount; the metadata's
 * `id` is not used, because a JSON message's own `id` overwrites it (nodejs-library#459).
 * An invalid event is refused (logged at error) and undefined returned.
 */
export function acceptQueuedEvent(queueItem: unknown, context: InvocationContext): QueuedEvent | undefined {
    const dequeueCount = context.triggerMetadata?.dequeueCount;
    const attempt = typeof dequeueCount === 'number' ? dequeueCount : undefined;
    let event: CloudEvent;
    try {
        event = parseCloudEvent(queueItem);
    } catch (error) {
        if (!(error instanceof InvalidCloudEventError)) throw error;
        errorStep(context, 'refused', { reason: `not a CloudEvent: ${error.detail}`, attempt });
        return undefined;
    }
    return { event, text: JSON.stringify(event), fields: { eventId: event.id, attempt } };
}

/** The instance the event is about, or undefined (logged at error) when its source is not an instance on the apps origin. */
export function acceptInstanceEvent(
    message: QueuedEvent,
    appsBaseUrl: string,
    logger: StepLogger,
): InstanceEvent | undefined {
    let ref: InstanceRef;
    try {
        ref = parseInstanceSource(message.event.source, appsBaseUrl);
    } catch (error) {
        if (!(error instanceof SourceRefusedError)) throw error;
        errorStep(logger, 'refused', { ...message.fields, reason: error.message });
        return undefined;
    }
    return {
        ...message,
        ref,
        subject: instanceSubject(ref),
        fields: { eventId: message.event.id, instanceId: ref.instanceId, ...message.fields },
    };
}

/** Runs a stage; a failure is logged (one line with the reason) and thrown again so that the queue retries. */
export async function failLoudly<T>(logger: StepLogger, fields: LogFields, stage: () => Promise<T>): Promise<T> {
    try {
        return await stage();
    } catch (error) {
        errorStep(logger, 'failed', { ...fields, error: errorMessage(error) });
        throw error;
    }
}

/** Where a stored instance goes next: feedback for the feedback event type, otherwise confirmation. */
export function queueAfterStore(event: CloudEvent, config: Pick<AppConfig, 'feedback'>): QueueName {
    return event.type === config.feedback?.eventType ? queues.eventsFeedback : queues.eventsConfirmation;
}

/** Queues the event for the next stage (base64, as the host expects), creating the queue if it is missing. */
export async function handOn(pipeline: Pipeline, queue: QueueName, message: InstanceEvent): Promise<void> {
    const started = Date.now();
    try {
        await pipeline.storage.enqueue(queue, message.text);
    } catch (error) {
        if (!(error instanceof RestError && error.statusCode === 404)) throw error;
        // Bicep provisions every queue in Azure; a fresh local Azurite has only those the host listens on.
        await pipeline.storage.queue(queue).createIfNotExists();
        await pipeline.storage.enqueue(queue, message.text);
    }
    logStep(pipeline.logger, 'queued-next', { ...message.fields, queue, durationMs: Date.now() - started });
}
