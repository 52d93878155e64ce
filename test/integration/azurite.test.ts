import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type AzuriteInstance } from '../support/azurite';

let azurite: AzuriteInstance;
beforeAll(async () => {
    azurite = await startAzurite();
});
afterAll(async () => {
    await azurite.stop();
});

test('a private Azurite accepts the current queue SDK', async () => {
    const queue = new QueueClient(azurite.connectionString, 'smoke');
    await queue.createIfNotExists();
    await queue.sendMessage(Buffer.from('hello').toString('base64'));
    const received = await queue.receiveMessages();
    expect(Buffer.from(received.receivedMessageItems[0].messageText, 'base64').toString()).toBe('hello');
});
