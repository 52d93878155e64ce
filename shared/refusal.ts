/**
 * Poison messages this code writes itself, and refusals. A message that can never succeed (not a
 * CloudEvent, a source that is not an instance on the apps origin, an app outside AcceptedApps) is
 * not retried and not dropped: it goes to its queue's poison queue as received, with the reason
 * recorded the way the last error of a failed message is (failures.ts), so `aos poison list` shows
 * why and `aos poison replay` can put it back once the cause is fixed. The invocation completes.
 *
 * Every such message is written with time-to-live -1 (never expires). Storage's default is 7 days,
 * which is what the host's own poison copies get (PoisonKeeper, poisonKeeper.ts, keeps those).
 */
import { recordFailure } from './failures';
import { errorMessage, errorStep, warnStep, type LogFields, type StepLogger } from './log';
import { poisonQueueOf } from './names';
import { redactPersonalData } from './redact';
import type { Storage } from './storage';

/** Adds a message to the poison queue of `queue`, never to expire; resolves with its message id. */
export function addToPoison(storage: Storage, queue: string, text: string): Promise<string> {
    return storage.enqueueCreating(poisonQueueOf(queue), text, { neverExpires: true });
}

/** Storage reports a message with time-to-live -1 as expiring at the end of year 9999. */
export function neverExpires(expiresOn: Date | undefined): boolean {
    return expiresOn !== undefined && expiresOn.getUTCFullYear() >= 9999;
}

/**
 * The text of a queue message as the handler received it: the library hands over a string, or
 * the JSON it parsed (written back as JSON; only insignificant whitespace can differ).
 */
export function queueItemText(item: unknown): string {
    if (typeof item === 'string') return item;
    if (Buffer.isBuffer(item) || item instanceof Uint8Array) return Buffer.from(item).toString('utf8');
    return JSON.stringify(item) ?? String(item);
}

/** The id a message carries, even one that is not a valid CloudEvent (its failure record is keyed by it). */
export function messageEventId(item: unknown): string | undefined {
    const id = (item as { id?: unknown } | null)?.id;
    return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The attempt and invocation of a queue-triggered invocation, when the logger is its context. */
export function invocationOf(logger: StepLogger): { attempt?: number; invocationId?: string } {
    const context = logger as { triggerMetadata?: { dequeueCount?: unknown }; invocationId?: unknown };
    const dequeueCount = context.triggerMetadata?.dequeueCount;
    return {
        attempt: typeof dequeueCount === 'number' ? dequeueCount : undefined,
        invocationId: typeof context.invocationId === 'string' ? context.invocationId : undefined,
    };
}

export interface Refusal {
    /** The queue the message was taken from; it goes to this queue's poison queue. */
    queue: string;
    text: string;
    /** Why it can never succeed, for the operator (`aos poison list`). */
    reason: string;
    /** The CloudEvent id, when the message has one. */
    eventId?: string;
    /** The attempt (dequeue count) that refused it. */
    attempt?: number;
    invocationId?: string;
    /** Fields for the log line (event and instance ids). */
    fields?: LogFields;
}

/**
 * Logs `step=refused` at error, adds the message to its poison queue and records the reason.
 * Throws only when the poison queue cannot be written, so that the queue keeps the message.
 */
export async function refuseIntoPoison(storage: Storage, logger: StepLogger, refusal: Refusal): Promise<void> {
    const { queue, reason } = refusal;
    errorStep(logger, 'refused', { ...refusal.fields, reason, queue: poisonQueueOf(queue) });
    const messageId = await addToPoison(storage, queue, refusal.text);
    const failedAt = new Date().toISOString();
    await recordFailure(storage, {
        queue,
        ...(refusal.eventId !== undefined ? { eventId: refusal.eventId } : { messageId }),
        error: redactPersonalData(reason),
        dequeueCount: refusal.attempt ?? 0,
        failedAt,
        invocationId: refusal.invocationId,
        refused: true,
        poisonedAt: failedAt,
    }).catch((error: unknown) => warnStep(logger, 'failure-not-recorded', { queue, error: errorMessage(error) }));
}
