/**
 * Confirmation: POST {instance}/complete tells Altinn that the owner has the instance, so Altinn
 * may purge it. Never before the whole instance is stored: instance.json is written last, so
 * without it (a message queued directly, skipping EventsProcessor) the stage fails loudly and
 * the message ends in the poison queue rather than confirming data nobody has. After complete,
 * afterConfirmed hands the instance off to case systems and sets its substatus.
 */
import { logStep, warnStep } from '../log';
import { instanceBlobName } from './layout';
import { afterConfirmed } from './afterConfirmed';
import type { Manifest } from './manifest';
import type { InstanceEvent, Pipeline } from './pipeline';
import { InstanceNotStoredError } from './store';

export type ConfirmOutcome = 'confirmed' | 'gone';

/** `manifest`: the instance's manifest when the caller has it in memory (otherwise afterConfirmed reads it). */
export async function confirmInstance(
    pipeline: Pipeline,
    message: InstanceEvent,
    manifest?: Manifest,
): Promise<ConfirmOutcome> {
    const { apps, store, logger } = pipeline;
    const { ref, fields } = message;
    const started = Date.now();
    const stored = await store.instanceInfo(ref);
    if (!stored) throw new InstanceNotStoredError(ref.instanceId, instanceBlobName(ref), 'confirm');
    const elements = Number(stored.metadata.elements);
    const bytes = Number(stored.metadata.bytes);
    const completed = await apps.complete(ref.url, { logger });
    if (!completed) {
        warnStep(logger, 'instance-gone', { ...fields, reason: 'complete answered 404; nothing to confirm' });
        return 'gone';
    }
    logStep(logger, 'confirmed', {
        ...fields,
        elements: Number.isFinite(elements) ? elements : undefined,
        bytes: Number.isFinite(bytes) ? bytes : undefined,
        durationMs: Date.now() - started,
    });
    await afterConfirmed(pipeline, message, manifest, completed);
    return 'confirmed';
}
