import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { startHostProcess, type HostProcess } from '../../support/host';
import { fixtureApp, sleep, waitForEvents } from './fixture';

jest.setTimeout(60_000);

let azurite: AzuriteInstance;
let host: HostProcess;

beforeAll(async () => {
    azurite = await startAzurite();
    host = await startHostProcess({
        appRoot: fixtureApp,
        env: {
            AzureWebJobsStorage: azurite.connectionString,
            // App settings override host.json as in Azure: here messageEncoding "base64" -> "none".
            AzureFunctionsJobHost__extensions__queues__messageEncoding: 'none',
        },
    });
});

afterAll(async () => {
    await host?.stop();
    await azurite?.stop();
});

test('with messageEncoding none, plain-text messages are delivered and outputs are written as plain text', async () => {
    await new QueueClient(azurite.connectionString, 'records').sendMessage('{"plain":true}');
    const [event] = await waitForEvents(host, 'QueueRecorder', (all) => all.length >= 1);
    expect(event.message).toEqual({ plain: true });

    await new QueueClient(azurite.connectionString, 'forward-in').sendMessage('plain text');
    const out = new QueueClient(azurite.connectionString, 'forward-out');
    const deadline = Date.now() + 10_000;
    let texts: string[] = [];
    while (texts.length === 0 && Date.now() < deadline) {
        if (await out.exists()) texts = (await out.peekMessages()).peekedMessageItems.map((item) => item.messageText);
        if (texts.length === 0) await sleep(100);
    }
    expect(texts).toEqual(['{"forwarded":"plain text"}']);
});
