/**
 * How long the hand-off has waited: the age of the oldest message on instances-received (the front
 * of the queue, as a peek sees it) and the approximate number waiting. The hand-off messages never
 * expire (time-to-live -1, message.ts), so a case system connected late loses nothing; what an
 * operator must hear about is a queue nobody takes from, which this measures for the
 * handoff-waiting alert.
 */
import { RestError } from '@azure/storage-queue';
import type { Storage } from '../storage';
import { receivedQueue } from './message';

export interface HandoffWaiting {
    queue: string;
    /** Storage's approximate count. */
    messages: number;
    /** Hours since the oldest visible message was put on the queue, to a tenth. */
    oldestHours: number;
}

/** The waiting hand-off, or undefined when nothing waits (or the queue does not exist yet). */
export async function handoffWaiting(storage: Storage, now: Date = new Date()): Promise<HandoffWaiting | undefined> {
    const queue = storage.queue(receivedQueue);
    try {
        const [properties, peeked] = await Promise.all([
            queue.getProperties(),
            queue.peekMessages({ numberOfMessages: 1 }),
        ]);
        const oldest = peeked.peekedMessageItems[0];
        if (!oldest) return undefined;
        const waitedMs = Math.max(0, now.getTime() - oldest.insertedOn.getTime());
        return {
            queue: receivedQueue,
            messages: properties.approximateMessagesCount ?? 1,
            oldestHours: Math.floor((waitedMs / 3_600_000) * 10) / 10,
        };
    } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
    }
}
