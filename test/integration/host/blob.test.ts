import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { startHostProcess, type HostProcess } from '../../support/host';
import { fixtureApp, fixtureEvents, fromBase64, sleep, waitForEvents, type FixtureEvent } from './fixture';

/* The fixture scans every 300 ms (LocalHostBlobPollingInterval) and retries after 2 s, 3 times. */
const severalScans = 1_500;

jest.setTimeout(60_000);

let azurite: AzuriteInstance;
let host: HostProcess;
let uploads: ContainerClient;

function startFixtureHost(): Promise<HostProcess> {
    return startHostProcess({ appRoot: fixtureApp, env: { AzureWebJobsStorage: azurite.connectionString } });
}

async function upload(name: string, content: string, contentType = 'application/json'): Promise<void> {
    await uploads.getBlockBlobClient(name).upload(content, Buffer.byteLength(content), {
        blobHTTPHeaders: { blobContentType: contentType },
    });
}

function firesFor(name: string, output = host.output()): FixtureEvent[] {
    return fixtureEvents(output, 'BlobRecorder').filter((event) => event.name === name);
}

beforeAll(async () => {
    azurite = await startAzurite();
    uploads = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('uploads');
    await uploads.create();
    // There before the host starts: the first scan picks it up, as the host does.
    await upload('existing.json', '{"existing":true}');
    host = await startFixtureHost();
});

afterAll(async () => {
    await host?.stop();
    await azurite?.stop();
});

test('fires for blobs that existed before start', async () => {
    await waitForEvents(host, 'BlobRecorder', (all) => all.some((e) => e.name === 'existing'));
    const [event] = firesFor('existing');
    expect(event).toMatchObject({ name: 'existing', text: '{"existing":true}', isBuffer: true });
});

test('fires once per new blob that matches the path, with the content as a Buffer and path parameters', async () => {
    await upload('a.json', '{"v":1}');
    await upload('ignored.txt', 'not matching {name}.json', 'text/plain');
    await waitForEvents(host, 'BlobRecorder', (all) => all.some((e) => e.name === 'a'));
    const [event] = firesFor('a');
    expect(event).toMatchObject({
        name: 'a',
        blobTrigger: 'uploads/a.json',
        uri: expect.stringMatching(/\/uploads\/a\.json$/) as unknown,
        contentType: 'application/json',
        isBuffer: true,
        text: '{"v":1}',
    });
    await sleep(severalScans);
    expect(firesFor('a')).toHaveLength(1);
    expect(host.output()).not.toContain('ignored');
});

test('fires again when the blob changes, once per version', async () => {
    await waitForEvents(host, 'BlobRecorder', (all) => all.some((e) => e.name === 'a'));
    await upload('a.json', '{"v":2}');
    await waitForEvents(host, 'BlobRecorder', (all) => all.filter((e) => e.name === 'a').length >= 2);
    await sleep(severalScans);
    expect(firesFor('a').map((event) => event.text)).toEqual(['{"v":1}', '{"v":2}']);
});

test('a failing blob is tried maxDequeueCount times, then reported to webjobs-blobtrigger-poison', async () => {
    await upload('bad.json', 'fail');
    await waitForEvents(host, 'BlobRecorder', (all) => all.filter((e) => e.name === 'bad').length >= 3, 20_000);
    const poison = new QueueClient(azurite.connectionString, 'webjobs-blobtrigger-poison');
    const deadline = Date.now() + 10_000;
    let messages: string[] = [];
    while (messages.length === 0 && Date.now() < deadline) {
        if (await poison.exists())
            messages = (await poison.peekMessages()).peekedMessageItems.map((m) => m.messageText);
        if (messages.length === 0) await sleep(100);
    }
    expect(messages).toHaveLength(1);
    expect(JSON.parse(fromBase64(messages[0]))).toMatchObject({
        Type: 'BlobTrigger',
        FunctionId: 'Host.Functions.BlobRecorder',
        ContainerName: 'uploads',
        BlobName: 'bad.json',
    });
    await sleep(2_000 + severalScans);
    expect(firesFor('bad')).toHaveLength(3);
});

test('after a restart, unchanged blobs do not fire again (receipts live in storage)', async () => {
    await waitForEvents(host, 'BlobRecorder', (all) => all.filter((e) => e.name === 'bad').length >= 3, 20_000);
    await sleep(severalScans);
    const exit = await host.stop();
    expect(exit.code).toBe(0);

    host = await startFixtureHost();
    await sleep(severalScans);
    await upload('after-restart.json', '{"fresh":true}');
    await waitForEvents(host, 'BlobRecorder', (all) => all.some((e) => e.name === 'after-restart'));
    await sleep(severalScans);
    const events = fixtureEvents(host.output(), 'BlobRecorder');
    expect(events.map((event) => event.name)).toEqual(['after-restart']);
});
