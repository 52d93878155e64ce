/**
 * The storage floor: per instance, the storage operations the pipeline cannot do without under its
 * pinned contracts, made directly with the SDKs at the same concurrency, with no Altinn calls and
 * no host: the event queued, received and deleted once; M data blobs, each one Put Blob;
 * manifest.json and instance.json (issue 12 pins the manifest); one hand-off message on
 * instances-received (issue 12); one ledger row (issue 11). No pipeline can beat it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
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
    const received = new QueueClient(connection, 'floor-received');
    await received.createIfNotExists();
    // Azurite speaks plain HTTP on loopback.
    const ledger = TableClient.fromConnectionString(connection, 'floorledger', { allowInsecureConnection: true });
    await ledger.createTable();
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
        await container.getBlockBlobClient(`${index}/${guid}/manifest.json`).upload('{}', 2);
        await container.getBlockBlobClient(`${index}/${guid}/instance.json`).upload('{}', 2);
        await received.sendMessage(event);
        await ledger.createEntity({ partitionKey: 'floor', rowKey: guid, storedAt: new Date() });
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
