import { QueueClient } from '@azure/storage-queue';
import { decodeQueueMessage } from '../../shared/storage';
import { waitUntil } from './simulator';

/** The texts (decoded) of up to 32 messages on a queue, without taking them; none when the queue does not exist. */
export async function peekTexts(connectionString: string, name: string): Promise<string[]> {
    const client = new QueueClient(connectionString, name);
    if (!(await client.exists())) return [];
    const { peekedMessageItems } = await client.peekMessages({ numberOfMessages: 32 });
    return peekedMessageItems.map((item) => decodeQueueMessage(item.messageText));
}

/** Waits until `found` (e.g. the peeked texts, filtered) holds something, and returns it. */
export function waitForSome<T>(found: () => Promise<T[]>, timeoutMs: number, what: string): Promise<T[]> {
    return waitUntil(
        async () => {
            const items = await found();
            return items.length > 0 ? items : undefined;
        },
        timeoutMs,
        what,
    );
}
