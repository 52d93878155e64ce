/**
 * Confirmation: POST {instance}/complete tells Altinn that the owner has the instance, so Altinn
 * may purge it. Never before the whole instance is stored: instance.json is written last, so
 * without it (a message queued directly, skipping EventsProcessor) the stage fails loudly and
 * the message ends in the poison queue rather than confirming data nobody has. Never for an
 * instance whose process has not ended: the callers hand an instance on to confirmation only
 * when Altinn's document (as fetched, or as process/next answered) says it ended. After complete,
 * afterConfirmed hands the instance off to case systems and sets its substatus.
 *
 * Once per version (once.ts): when the document fetched with the store already holds the owner's
 * complete, complete is not called again, and the hand-off happens only for a version the ledger
 * has not seen handed off.
 *
 * EventsProcessor confirms in the same invocation, right after it wrote instance.json, and says
 * so (`stored`, with the manifest it has in memory), which spares the reads; EventsConfirmation,
 * which knows nothing, reads.
 */
import { substatusIn, type Completed, type FetchedInstance } from '../altinn/apps';
import { ledgerOf, recordGone } from '../ledger';
import { errorMessage, logStep, warnStep } from '../log';
import { queues } from '../names';
import { decodeMetadataValue, instanceBlobName } from './layout';
import { afterConfirmed } from './afterConfirmed';
import type { Manifest } from './manifest';
import { withHandled, type InstanceHistory } from './once';
import { handOn, type InstanceEvent, type Pipeline } from './pipeline';
import { InstanceNotStoredError } from './store';
import { confirmedBy, hasEnded, processPosition } from './version';

export type ConfirmOutcome = 'confirmed' | 'gone';

/** What the caller knows of the stored instance because it has just written (or read) instance.json itself. */
export interface StoredInstanceSummary {
    elements: number;
    bytes: number;
    /** The manifest, when the caller has it in memory (otherwise afterConfirmed reads manifest.json). */
    manifest?: Manifest;
    /** The version stored (version.ts). */
    version?: string;
    /** Altinn's document as fetched for the store: whether it holds the owner's complete, and its substatus. */
    fetched?: FetchedInstance;
}

export async function confirmInstance(
    pipeline: Pipeline,
    message: InstanceEvent,
    history: InstanceHistory,
    justStored?: StoredInstanceSummary,
): Promise<ConfirmOutcome> {
    const { apps, store, logger } = pipeline;
    const { ref, fields } = message;
    const started = Date.now();
    let elements: number;
    let bytes: number;
    let version: string | undefined;
    if (justStored) {
        ({ elements, bytes, version } = justStored);
    } else {
        const stored = await store.instanceInfo(ref);
        if (!stored) throw new InstanceNotStoredError(ref.instanceId, instanceBlobName(ref), 'confirm');
        elements = Number(stored.metadata.elements);
        bytes = Number(stored.metadata.bytes);
        version = decodeMetadataValue(stored.metadata.version);
    }
    const fetched = justStored?.fetched;
    const confirmedBefore = fetched !== undefined && confirmedBy(fetched.instance, ref.org);
    let completed: Completed;
    if (confirmedBefore) {
        logStep(logger, 'confirm-skipped', {
            ...fields,
            reason: `Altinn's document already holds complete by ${ref.org}`,
        });
        completed = { substatus: substatusIn(fetched.text) };
    } else {
        const answer = await apps.complete(ref.url, { logger });
        if (!answer) {
            warnStep(logger, 'instance-gone', { ...fields, reason: 'complete answered 404; nothing to confirm' });
            await recordGone(ledgerOf(pipeline.storage), logger, message.subject);
            return 'gone';
        }
        completed = answer;
        logStep(logger, 'confirmed', {
            ...fields,
            instanceId: ref.instanceId,
            elements: Number.isFinite(elements) ? elements : undefined,
            bytes: Number.isFinite(bytes) ? bytes : undefined,
            durationMs: Date.now() - started,
        });
    }
    // Both paths (the processor's own confirmation and EventsConfirmation) record it here.
    await pipeline.ledger.confirmed(message.subject);
    await afterConfirmed(pipeline, message, history, {
        manifest: justStored?.manifest,
        version,
        completed,
        // An instance Altinn showed unconfirmed a moment ago was never handed off: no ledger read.
        mayBeHandedOff: fetched === undefined || confirmedBefore,
    });
    await pipeline.ledger.handled(message.subject, withHandled(history.peek(), message.event.id));
    return 'confirmed';
}

/**
 * Confirms right away an instance this invocation has just stored, when its process has ended (one
 * stored for another event type while it stands in a task is not: its completed event confirms
 * it); when that fails, the event is
 * handed to events-confirmation, whose retries repeat only `complete`, never the download. Only
 * when that hand-on fails too does the error reach the caller (and the queue retries the whole
 * message, which finds the instance stored and downloads nothing again).
 */
export async function confirmNowOrHandOn(
    pipeline: Pipeline,
    message: InstanceEvent,
    history: InstanceHistory,
    justStored: StoredInstanceSummary,
): Promise<void> {
    const process = justStored.fetched?.instance.process;
    if (justStored.fetched && !hasEnded(process)) {
        logStep(pipeline.logger, 'confirm-skipped', {
            ...message.fields,
            reason: `the process has not ended (${processPosition(process)}); its completed event confirms it`,
        });
        return;
    }
    try {
        await confirmInstance(pipeline, message, history, justStored);
    } catch (error) {
        warnStep(pipeline.logger, 'confirm-deferred', {
            ...message.fields,
            queue: queues.eventsConfirmation,
            error: errorMessage(error),
        });
        await handOn(pipeline, queues.eventsConfirmation, message);
    }
}
