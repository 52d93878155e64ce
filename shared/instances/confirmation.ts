/**
 * Confirmation: POST {instance}/complete tells Altinn that the owner has the instance, so Altinn
 * may purge it. Never before the whole instance is stored: instance.json is written last, so
 * without it (a message queued directly, skipping EventsProcessor) the stage fails loudly and
 * the message ends in the poison queue rather than confirming data nobody has. After complete,
 * afterConfirmed hands the instance off to case systems and sets its substatus.
 *
 * EventsProcessor confirms in the same invocation, right after it wrote instance.json, and says
 * so (`stored`, with the manifest it has in memory), which spares the reads; EventsConfirmation,
 * which knows nothing, reads.
 */
import { ledgerOf, recordGone } from '../ledger';
import { errorMessage, logStep, warnStep } from '../log';
import { queues } from '../names';
import { instanceBlobName } from './layout';
import { afterConfirmed } from './afterConfirmed';
import type { Manifest } from './manifest';
import { handOn, type InstanceEvent, type Pipeline } from './pipeline';
import { InstanceNotStoredError } from './store';

export type ConfirmOutcome = 'confirmed' | 'gone';

/** What the caller knows of the stored instance because it has just written (or read) instance.json itself. */
export interface StoredInstanceSummary {
    elements: number;
    bytes: number;
    /** The manifest, when the caller has it in memory (otherwise afterConfirmed reads manifest.json). */
    manifest?: Manifest;
}

export async function confirmInstance(
    pipeline: Pipeline,
    message: InstanceEvent,
    justStored?: StoredInstanceSummary,
): Promise<ConfirmOutcome> {
    const { apps, store, logger } = pipeline;
    const { ref, fields } = message;
    const started = Date.now();
    let elements: number;
    let bytes: number;
    if (justStored) {
        ({ elements, bytes } = justStored);
    } else {
        const stored = await store.instanceInfo(ref);
        if (!stored) throw new InstanceNotStoredError(ref.instanceId, instanceBlobName(ref), 'confirm');
        elements = Number(stored.metadata.elements);
        bytes = Number(stored.metadata.bytes);
    }
    const completed = await apps.complete(ref.url, { logger });
    if (!completed) {
        warnStep(logger, 'instance-gone', { ...fields, reason: 'complete answered 404; nothing to confirm' });
        await recordGone(ledgerOf(pipeline.storage), logger, message.subject);
        return 'gone';
    }
    logStep(logger, 'confirmed', {
        ...fields,
        elements: Number.isFinite(elements) ? elements : undefined,
        bytes: Number.isFinite(bytes) ? bytes : undefined,
        durationMs: Date.now() - started,
    });
    // Both paths (the processor's own confirmation and EventsConfirmation) record it here.
    await pipeline.ledger.confirmed(message.subject);
    await afterConfirmed(pipeline, message, justStored?.manifest, completed);
    return 'confirmed';
}

/**
 * Confirms right away an instance this invocation has just stored; when that fails, the event is
 * handed to events-confirmation, whose retries repeat only `complete`, never the download. Only
 * when that hand-on fails too does the error reach the caller (and the queue retries the whole
 * message, which finds the instance stored and downloads nothing again).
 */
export async function confirmNowOrHandOn(
    pipeline: Pipeline,
    message: InstanceEvent,
    justStored: StoredInstanceSummary,
): Promise<void> {
    try {
        await confirmInstance(pipeline, message, justStored);
    } catch (error) {
        warnStep(pipeline.logger, 'confirm-deferred', {
            ...message.fields,
            queue: queues.eventsConfirmation,
            error: errorMessage(error),
        });
        await handOn(pipeline, queues.eventsConfirmation, message);
    }
}
