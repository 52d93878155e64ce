/**
 * Keeps the host's poison messages before they expire. After maxDequeueCount failed attempts the
 * Functions host copies a message to `<queue>-poison` with storage's default time-to-live of 7 days
 * (azure-webjobs-sdk, src/Microsoft.Azure.WebJobs.Extensions.Storage/Queues/QueueProcessor.cs:
 * CopyMessageToPoisonQueueAsync adds the message without a time-to-live; host.json has no setting
 * for it). Left alone, a failed submission's message would vanish after a week.
 *
 * So, on each run and for every pipeline queue, each poison message that will expire is added
 * again unchanged (the same base64 text) with time-to-live -1, and only then is the original
 * deleted. The failure record (failures.ts) keeps what the copy loses: when the message first
 * reached the poison queue (its age in `aos poison list`), the attempts and the last error; a
 * record keyed by message id moves to the new id. The messages stay in the same poison queue, so
 * `aos poison list | replay | drop` work on them as before.
 *
 * A poison queue whose first 32 messages all never expire costs one peek. Otherwise its messages
 * are received (hidden for a minute) one batch after another; those that never expire are made
 * visible again at the end, with a dequeue count one higher (it counts looks, not attempts: the
 * attempts are in the record). A run that stops between the add and the delete leaves the message
 * twice in its poison queue (the original is kept again on the next run): at least once, never lost.
 */
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import { forgetFailure, maxDequeueCount, readFailure, recordFailure, type FailureKey } from './failures';
import { logStep, type StepLogger } from './log';
import { poisonQueueOf, queues } from './names';
import { messageEventId, neverExpires } from './refusal';
import { decodeQueueMessage, type Storage } from './storage';
import { storageStatus } from './subscriptions/blobs';

/** How many messages one run keeps per poison queue at most (the next run goes on). */
const maxKeptPerRun = 500;
/** How long a received message stays hidden while it is looked at. */
const lookSeconds = 60;

export interface KeptQueue {
    queue: string;
    /** Messages added again without expiry this run. */
    kept: number;
}

/** Keeps every expiring poison message of the pipeline queues; one line per queue that had any. */
export async function keepPoison(
    storage: Storage,
    logger: StepLogger,
    queueNames: string[] = Object.values(queues),
): Promise<KeptQueue[]> {
    const results: KeptQueue[] = [];
    for (const queue of queueNames) {
        const kept = await keepQueue(storage, queue, logger);
        if (kept > 0) logStep(logger, 'poison-kept', { queue: poisonQueueOf(queue), kept });
        results.push({ queue, kept });
    }
    return results;
}

async function keepQueue(storage: Storage, queue: string, logger: StepLogger): Promise<number> {
    const client = storage.queue(poisonQueueOf(queue));
    let peeked;
    try {
        peeked = (await client.peekMessages({ numberOfMessages: 32 })).peekedMessageItems;
    } catch (error) {
        if (storageStatus(error) === 404) return 0; // no poison queue: nothing ever failed there
        throw error;
    }
    if (peeked.length < 32 && peeked.every((item) => neverExpires(item.expiresOn))) return 0;

    const lookedAt: DequeuedMessageItem[] = [];
    let kept = 0;
    try {
        while (kept < maxKeptPerRun) {
            const { receivedMessageItems } = await client.receiveMessages({
                numberOfMessages: 32,
                visibilityTimeout: lookSeconds,
            });
            if (receivedMessageItems.length === 0) break;
            for (const item of receivedMessageItems) {
                if (neverExpires(item.expiresOn)) {
                    lookedAt.push(item);
                    continue;
                }
                await keepMessage(storage, client, queue, item, logger);
                kept++;
            }
        }
    } finally {
        // The durable ones seen on the way are visible again at once (for `aos poison list`).
        for (const item of lookedAt) {
            await client.updateMessage(item.messageId, item.popReceipt, undefined, 0).catch(() => undefined);
        }
    }
    return kept;
}

async function keepMessage(
    storage: Storage,
    client: QueueClient,
    queue: string,
    item: DequeuedMessageItem,
    logger: StepLogger,
): Promise<void> {
    // The same text as the host copied it (still encoded), so a replay hands the function what it had.
    const { messageId } = await client.sendMessage(item.messageText, { messageTimeToLive: -1 });
    await keepRecord(storage, queue, item, messageId);
    await client.deleteMessage(item.messageId, item.popReceipt);
    logStep(logger, 'poison-message-kept', {
        queue: poisonQueueOf(queue),
        messageId: item.messageId,
        keptAs: messageId,
        poisonedAt: item.insertedOn.toISOString(),
    });
}

/** Adds when the message first reached poison to its record; a record keyed by message id moves to the new id. */
async function keepRecord(storage: Storage, queue: string, item: DequeuedMessageItem, newId: string): Promise<void> {
    const eventId = eventIdIn(decodeQueueMessage(item.messageText));
    const oldKey: FailureKey = eventId !== undefined ? { eventId } : { messageId: item.messageId };
    const found = await readFailure(storage, queue, oldKey);
    if (found?.poisonedAt && eventId !== undefined) return; // it knows already, under a key that does not change
    await recordFailure(storage, {
        // Without a record the host moved it before the handler could say why (e.g. the worker stopped during its attempts).
        ...(found ?? {
            error: 'not recorded: the Functions host moved it here after its last attempt',
            dequeueCount: maxDequeueCount(),
            failedAt: item.insertedOn.toISOString(),
        }),
        queue,
        ...(eventId !== undefined ? { eventId } : { eventId: undefined, messageId: newId }),
        poisonedAt: found?.poisonedAt ?? item.insertedOn.toISOString(),
    });
    if (eventId === undefined) await forgetFailure(storage, queue, oldKey);
}

function eventIdIn(text: string): string | undefined {
    try {
        return messageEventId(JSON.parse(text));
    } catch {
        return undefined;
    }
}
