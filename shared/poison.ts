/**
 * Operator actions on poison queues: see what failed and why, put it back once the cause is
 * fixed, or drop it. Works the same against Azurite and against Azure storage.
 */
import type { QueueClient } from '@azure/storage-queue';
import { forgetFailure, readFailure } from './failures';
import { redactPersonalData } from './redact';
import { poisonQueueOf, queues } from './names';
import { decodeQueueMessage, type Storage } from './storage';

export interface PoisonMessage {
    queue: string;
    messageId: string;
    insertedOn?: Date;
    ageSeconds?: number;
    dequeueCount: number;
    eventId?: string;
    eventType?: string;
    subject?: string;
    text: string;
    lastError?: string;
    failedAt?: string;
    /** Put in poison at once because it can never succeed (the error is the reason). */
    refused?: boolean;
}

export const pipelineQueues: string[] = Object.values(queues);

function describe(text: string): { eventId?: string; eventType?: string; subject?: string } {
    try {
        const event = JSON.parse(text) as {
            id?: unknown;
            type?: unknown;
            source?: unknown;
            resourceinstance?: unknown;
        };
        return {
            eventId: typeof event.id === 'string' ? event.id : undefined,
            eventType: typeof event.type === 'string' ? event.type : undefined,
            subject:
                typeof event.resourceinstance === 'string'
                    ? redactPersonalData(event.resourceinstance)
                    : typeof event.source === 'string'
                      ? redactPersonalData(event.source)
                      : undefined,
        };
    } catch {
        return {};
    }
}

async function poisonClient(storage: Storage, queue: string): Promise<QueueClient | undefined> {
    const client = storage.queue(poisonQueueOf(queue));
    return (await client.exists()) ? client : undefined;
}

/** Up to 32 messages per poison queue (the storage peek limit), oldest first, with their recorded error. */
export async function listPoison(
    storage: Storage,
    queueNames = pipelineQueues,
    now = new Date(),
): Promise<PoisonMessage[]> {
    const found: PoisonMessage[] = [];
    for (const queue of queueNames) {
        const client = await poisonClient(storage, queue);
        if (!client) continue;
        const { peekedMessageItems } = await client.peekMessages({ numberOfMessages: 32 });
        for (const item of peekedMessageItems) {
            const text = decodeQueueMessage(item.messageText);
            const info = describe(text);
            const failure = await readFailure(
                storage,
                queue,
                info.eventId ? { eventId: info.eventId } : { messageId: item.messageId },
            );
            // PoisonKeeper adds a host copy again without expiry; the record keeps when it first got here.
            const insertedOn = failure?.poisonedAt ? new Date(failure.poisonedAt) : item.insertedOn;
            found.push({
                queue,
                messageId: item.messageId,
                insertedOn,
                ageSeconds: insertedOn ? Math.round((now.getTime() - insertedOn.getTime()) / 1000) : undefined,
                dequeueCount: item.dequeueCount,
                text,
                ...info,
                // Records written before redaction existed may still carry personal data.
                lastError: failure?.error === undefined ? undefined : redactPersonalData(failure.error),
                failedAt: failure?.failedAt,
                refused: failure?.refused,
            });
        }
    }
    return found;
}

export interface Selection {
    queue: string;
    /** Message ids to act on; undefined: every message in the poison queue. */
    messageIds?: string[];
}

/**
 * Takes the selected messages off the poison queue, handing each to `act` first; a message is
 * deleted only after `act` succeeded, so a failure leaves it in the poison queue.
 */
async function takeFromPoison(
    storage: Storage,
    selection: Selection,
    act: (text: string) => Promise<void>,
): Promise<number> {
    const client = await poisonClient(storage, selection.queue);
    if (!client) return 0;
    const wanted = selection.messageIds ? new Set(selection.messageIds) : undefined;
    let handled = 0;
    const skipped: { messageId: string; popReceipt: string }[] = [];
    for (;;) {
        const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
        if (receivedMessageItems.length === 0) break;
        for (const item of receivedMessageItems) {
            if (wanted && !wanted.has(item.messageId)) {
                skipped.push(item);
                continue;
            }
            const text = decodeQueueMessage(item.messageText);
            await act(text);
            await client.deleteMessage(item.messageId, item.popReceipt);
            const { eventId } = describe(text);
            await forgetFailure(storage, selection.queue, eventId ? { eventId } : { messageId: item.messageId });
            handled++;
        }
        if (wanted && handled === wanted.size) break;
    }
    // Messages looked at but not selected become visible again at once.
    for (const item of skipped) await client.updateMessage(item.messageId, item.popReceipt, undefined, 0);
    return handled;
}

/** Puts poison messages back on their queue, unchanged, for another round of attempts. */
export async function replayPoison(storage: Storage, selection: Selection): Promise<number> {
    await storage.queue(selection.queue).createIfNotExists();
    return takeFromPoison(storage, selection, async (text) => {
        await storage.enqueue(selection.queue, text);
    });
}

export function dropPoison(storage: Storage, selection: Selection): Promise<number> {
    return takeFromPoison(storage, selection, () => Promise.resolve());
}
