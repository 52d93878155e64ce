/**
 * What the instance functions share: reading a queued event, refusing what can never succeed
 * (into the queue's poison queue with the reason, shared/refusal.ts; the invocation completes,
 * nothing is retried), logging a failure before it goes back to the queue, handing the event on
 * to the next queue, and the clients they work with.
 */
import type { InvocationContext } from '@azure/functions';
import { createAppsClient, type AppsClient } from '../altinn/apps';
import type { AltinnStack } from '../altinn';
import { InvalidCloudEventError, parseCloudEvent, type CloudEvent } from '../cloudEvent';
import type { AppConfig, AppRef } from '../config';
import { errorMessage, errorStep, logStep, type LogFields, type StepLogger } from '../log';
import { containers, queues, type QueueName } from '../names';
import { instanceSubject, ledgerOf, recordRefused, type LedgerSubject, type LedgerWriter } from '../ledger';
import { invocationOf, messageEventId, queueItemText, refuseIntoPoison } from '../refusal';
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
    /** The queue it was taken from (a refusal goes to its poison queue). */
    queue: QueueName;
    /** The dequeue count of this attempt. */
    attempt?: number;
    invocationId?: string;
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
        store = new InstanceStore({
            inbound: storage.container(containers.inbound),
            quarantine: storage.container(containers.quarantine),
        });
        stores.set(storage, store);
    }
    return { config, storage, apps, store, logger, ledger: ledgerOf(storage).writer(logger) };
}

/**
 * The CloudEvent of a queue message, as the library hands it over (parsed JSON, or a string when
 * it was not JSON). The attempt number comes from triggerMetadata.dequeueCount; the metadata's
 * `id` is not used, because a JSON message's own `id` overwrites it (nodejs-library#459).
 * A message that is not a CloudEvent is refused into the poison queue and undefined returned.
 */
export async function acceptQueuedEvent(
    pipeline: Pick<Pipeline, 'storage'>,
    queue: QueueName,
    queueItem: unknown,
    context: InvocationContext,
): Promise<QueuedEvent | undefined> {
    const { attempt, invocationId } = invocationOf(context);
    let event: CloudEvent;
    try {
        event = parseCloudEvent(queueItem);
    } catch (error) {
        if (!(error instanceof InvalidCloudEventError)) throw error;
        await refuseIntoPoison(pipeline.storage, context, {
            queue,
            text: queueItemText(queueItem),
            reason: `not a CloudEvent: ${error.detail}`,
            eventId: messageEventId(queueItem),
            attempt,
            invocationId,
            fields: { attempt },
        });
        return undefined;
    }
    return {
        event,
        text: JSON.stringify(event),
        queue,
        attempt,
        invocationId,
        fields: { eventId: event.id, attempt },
    };
}

/**
 * The instance the event is about, or undefined when the event is refused into the poison queue:
 * its source is not an instance on the apps origin, or its app is not in AcceptedApps (then the
 * ledger records the refusal too).
 */
export async function acceptInstanceEvent(
    pipeline: Pick<Pipeline, 'config' | 'storage' | 'logger'>,
    message: QueuedEvent,
): Promise<InstanceEvent | undefined> {
    const { config, storage, logger } = pipeline;
    const refuse = (reason: string, fields: LogFields = {}) =>
        refuseIntoPoison(storage, logger, {
            queue: message.queue,
            text: message.text,
            reason,
            eventId: message.event.id,
            attempt: message.attempt,
            invocationId: message.invocationId,
            fields: { ...message.fields, ...fields },
        });
    let ref: InstanceRef;
    try {
        ref = parseInstanceSource(message.event.source, config.appsBaseUrl);
    } catch (error) {
        if (!(error instanceof SourceRefusedError)) throw error;
        await refuse(error.message);
        return undefined;
    }
    const subject = instanceSubject(ref);
    if (!isAccepted(config.acceptedApps, ref)) {
        const reason = `app ${ref.org}/${ref.app} is not in AcceptedApps (${config.acceptedApps!.map((a) => `${a.org}/${a.app}`).join(', ')})`;
        await refuse(reason, { instanceId: ref.instanceId });
        await recordRefused(ledgerOf(storage), logger, subject, reason);
        return undefined;
    }
    return {
        ...message,
        ref,
        subject,
        fields: { eventId: message.event.id, instanceId: ref.instanceId, ...message.fields },
    };
}

/** Whether AcceptedApps lets the app's events in (unset: every app). */
export function isAccepted(acceptedApps: AppRef[] | undefined, ref: AppRef): boolean {
    if (!acceptedApps) return true;
    return acceptedApps.some(
        (app) => app.org.toLowerCase() === ref.org.toLowerCase() && app.app.toLowerCase() === ref.app.toLowerCase(),
    );
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
    await pipeline.storage.enqueueCreating(queue, message.text);
    logStep(pipeline.logger, 'queued-next', { ...message.fields, queue, durationMs: Date.now() - started });
}
