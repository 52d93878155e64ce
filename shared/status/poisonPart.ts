/** Poison messages per pipeline queue, from the queue's approximate message count (one call per queue, no peeking). */
import { poisonQueueOf, queues } from '../names';
import type { Storage } from '../storage';
import { storageStatus } from '../subscriptions/blobs';
import type { PoisonQueueStatus } from './report';

export async function poisonQueueStatuses(storage: Storage): Promise<PoisonQueueStatus[]> {
    return Promise.all(
        Object.values(queues).map(async (queue) => {
            const poisonQueue = poisonQueueOf(queue);
            return { queue, poisonQueue, messages: await approximateCount(storage, poisonQueue) };
        }),
    );
}

async function approximateCount(storage: Storage, queue: string): Promise<number> {
    try {
        return (await storage.queue(queue).getProperties()).approximateMessagesCount ?? 0;
    } catch (error) {
        // The host creates a poison queue with its first message: none yet means nothing failed.
        if (storageStatus(error) === 404) return 0;
        throw error;
    }
}
