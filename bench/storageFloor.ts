/**
 * The storage floor: per instance, the queue and blob operations the pipeline cannot do without
 * (the event queued, received and deleted once; M data blobs, each one Put Blob; instance.json),
 * made directly with the SDKs at the same concurrency, with no Altinn calls and no host. No
 * pipeline can beat it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';

export async function measureStorageFloor(
    connection: string,
    instances: number,
    elements: number,
    elementBytes: number,
    concurrency: number,
): Promise<{ seconds: number; eventsPerSecond: number }> {
    const container = BlobServiceClient.fromConnectionString(connection).getContainerClient('floor');
    await container.createIfNotExists();
    const inbound = new QueueClient(connection, 'floor-inbound');
    await inbound.createIfNotExists();
    const payload = randomBytes(elementBytes);
    const event = Buffer.from(
        JSON.stringify({ specversion: '1.0', id: randomUUID(), type: 'x', source: 'y' }),
    ).toString('base64');

    const hop = async (queue: QueueClient): Promise<void> => {
        await queue.sendMessage(event);
        for (;;) {
            const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 1 });
            const message = receivedMessageItems[0];
            if (message) {
                await queue.deleteMessage(message.messageId, message.popReceipt);
                return;
            }
        }
    };
    const one = async (index: number): Promise<void> => {
        await hop(inbound);
        const guid = randomUUID();
        await Promise.all(
            Array.from({ length: elements }, (_, k) =>
                container.getBlockBlobClient(`${index}/${guid}/data/${k}`).uploadData(payload),
            ),
        );
        await container.getBlockBlobClient(`${index}/${guid}/instance.json`).upload('{}', 2);
    };

    const started = Date.now();
    let next = 0;
    await Promise.all(
        Array.from({ length: concurrency }, async () => {
            while (next < instances) await one(next++);
        }),
    );
    const seconds = (Date.now() - started) / 1000;
    return { seconds, eventsPerSecond: instances / seconds };
}
