import { Readable } from 'node:stream';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import { startCountingProxy, type CountingProxy } from '../../../bench/countingProxy';
import { connectionStringFor } from '../../../dev/storageConnection';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';

/* The bench's request counter: real SDK clients through the proxy to a real Azurite, each operation counted by kind. */

jest.setTimeout(60_000);

let azurite: AzuriteInstance;
let proxy: CountingProxy<'blob' | 'queue'>;
let connection: string;

beforeAll(async () => {
    azurite = await startAzurite();
    proxy = await startCountingProxy({ blob: azurite.blobPort, queue: azurite.queuePort });
    connection = connectionStringFor({ ...azurite, blobPort: proxy.ports.blob, queuePort: proxy.ports.queue });
});

afterAll(async () => {
    await proxy?.stop();
    await azurite?.stop();
});

test('queue operations are counted by kind, an empty receive apart from one that brought a message', async () => {
    const queue = new QueueClient(connection, 'counted');
    await queue.createIfNotExists();
    proxy.reset();
    await queue.sendMessage('aGVsbG8=');
    await queue.sendMessage('aGVsbG8=');
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 2 });
    expect(receivedMessageItems).toHaveLength(2);
    for (const item of receivedMessageItems) await queue.deleteMessage(item.messageId, item.popReceipt);
    expect((await queue.receiveMessages()).receivedMessageItems).toEqual([]);
    await queue.peekMessages();
    expect(proxy.counts()).toEqual({
        'queue put': 2,
        'queue receive': 1,
        'queue delete': 2,
        'queue receive (empty)': 1,
        'queue peek': 1,
    });
});

test('blob operations are counted by kind: one Put Blob, staged blocks and their commit, reads and listings', async () => {
    const container = BlobServiceClient.fromConnectionString(connection).getContainerClient('counted');
    await container.createIfNotExists();
    proxy.reset();
    const small = container.getBlockBlobClient('small');
    await small.upload('hello', 5);
    // uploadStream stages every buffer as a block and commits the list, however small the stream.
    await container.getBlockBlobClient('streamed').uploadStream(Readable.from([Buffer.alloc(1024)]), 512, 1);
    await small.getProperties();
    const chunks: Buffer[] = [];
    for await (const chunk of (await small.download()).readableStreamBody!) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello');
    for await (const blob of container.listBlobsFlat()) expect(blob.name).toBeDefined();
    const counts = proxy.counts();
    expect(counts).toMatchObject({ 'blob put': 1, 'blob commit': 1, 'blob head': 1, 'blob get': 1, 'blob list': 1 });
    expect(counts['blob block']).toBeGreaterThanOrEqual(1);
    // Bytes pass through unchanged both ways.
    expect((await container.getBlobClient('streamed').downloadToBuffer()).length).toBe(1024);
});
