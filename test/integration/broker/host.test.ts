import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import { type Simulator } from '../../../dev/simulator/simulator';
import { readFailure } from '../../../shared/failures';
import { createStorage, decodeQueueMessage } from '../../../shared/storage';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { repoRoot, startHostProcess, type HostProcess } from '../../support/host';
import {
    clientRegistration,
    createClientCredentials,
    startTestSimulator,
    waitUntil,
    clientSettings,
} from '../../support/simulator';
import { BROKER_SCOPES, ME, RESOURCE, SENDER } from './harness';

/*
 * Broker as deployed: the project's own registrations run by the local Functions host in a child
 * process. The subscription is docs/examples/broker-subscription.json with its blanks filled in,
 * dropped into add-subscriptions; the simulator validates it against the host's webhook and
 * pushes the published event, which EventsReceiver routes to broker-inbound and BrokerProcessor
 * stores and confirms. BrokerCatchUp is run through the host's admin API. Needs `npm run build`.
 */

jest.setTimeout(90_000);

let azurite: AzuriteInstance;
let sim: Simulator;
let host: HostProcess;
let broker: ContainerClient;

beforeAll(async () => {
    [azurite, sim] = await Promise.all([startAzurite(), startTestSimulator({ orgNumber: ME })]);
    const creds = createClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, BROKER_SCOPES));
    host = await startHostProcess({
        appRoot: repoRoot,
        env: {
            AzureWebJobsStorage: azurite.connectionString,
            ...clientSettings(sim, creds, BROKER_SCOPES),
            BrokerResources: RESOURCE,
            CatchUpApps: '',
            // The catch-up timers never fire by themselves here; subscription files are picked up every second.
            CatchUpSchedule: '0 0 0 1 1 *',
            ReconcileSchedule: '0 0 0 1 1 *',
            SubscriptionsSchedule: '*/1 * * * * *',
            HttpRetryBudgetSeconds: '2',
            AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.500',
            AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '2',
            AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:01',
        },
    });
    broker = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('broker');
});

afterAll(async () => {
    await host?.stop(10_000);
    await Promise.all([sim?.stop(), azurite?.stop()]);
});

test('the example subscription brings a published file to the webhook; it is stored and confirmed', async () => {
    const example = readFileSync(join(repoRoot, 'docs', 'examples', 'broker-subscription.json'), 'utf8');
    const request = example
        .replace(
            'https://<function app>.azurewebsites.net/api/eventsreceiver?code=<EventsReceiver function key>',
            `${host.url}/api/eventsreceiver?code=local`,
        )
        .replace('<Broker resource id, as in BrokerResources>', RESOURCE)
        .replace('<our organisation number>', ME);
    expect(request).not.toMatch(/[<>]/);
    const add = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
        'add-subscriptions',
    );
    await add.createIfNotExists();
    await add.getBlockBlobClient('broker.json').upload(request, Buffer.byteLength(request));
    const [subscription] = await waitUntil(
        async () => {
            const subscriptions = await sim.control.listSubscriptions();
            return subscriptions.some((s) => s.validated) ? subscriptions : undefined;
        },
        30_000,
        'a validated subscription',
    );
    expect(subscription).toMatchObject({
        resourceFilter: `urn:altinn:resource:${RESOURCE}`,
        subjectFilter: `urn:altinn:organization:identifier-no:${ME}`,
    });
    // No typeFilter: Altinn matches types exactly, and never-confirmed must arrive as well as published.
    expect(subscription.typeFilter).toBeUndefined();

    const { fileTransferId, overview } = await sim.control.createFileTransfer({
        resourceId: RESOURCE,
        fileName: 'melding.xml',
        content: '<melding>hei</melding>',
        recipients: [ME],
        sender: SENDER,
    });
    await host.waitForOutput(new RegExp(`step=confirmed [^\\n]*fileTransferId=${fileTransferId}`), 30_000);
    const file = await broker.getBlobClient(`${RESOURCE}/${fileTransferId}/melding.xml`).downloadToBuffer();
    expect(file.toString()).toBe('<melding>hei</melding>');
    expect(
        JSON.parse(
            (
                await broker.getBlobClient(`${RESOURCE}/${fileTransferId}/filetransfer.json`).downloadToBuffer()
            ).toString(),
        ),
    ).toMatchObject({ fileTransferId, checksum: overview.checksum });
    expect(sim.counters().requests['broker.confirm']).toEqual({ '204': 1 });
    // Only our recipient events were pushed: the sender's published has another subject. Our downloadconfirmed
    // (the echo of our own confirmation) arrives too, and is logged and dropped.
    await host.waitForOutput(new RegExp(`step=ignored [^\\n]*type=no\\.altinn\\.broker\\.downloadconfirmed`), 10_000);
    expect(host.output()).not.toMatch(/step=ignored [^\n]*type=no\.altinn\.broker\.published/);
});

test('the example subscription brings fileneverconfirmeddownloaded for a file Broker purged unconfirmed; it is logged at error', async () => {
    const { fileTransferId } = await sim.control.createFileTransfer({
        resourceId: RESOURCE,
        fileName: 'utløpt.txt',
        content: 'utløpt',
        recipients: [ME],
        sender: SENDER,
        deliver: false,
    });
    const { events } = await sim.control.expireFileTransfer(fileTransferId);
    expect(events.map((event) => event.type)).toContain('no.altinn.broker.fileneverconfirmeddownloaded');
    await host.waitForOutput(
        new RegExp(`step=broker-never-confirmed fileTransferId=${fileTransferId} resourceId=${RESOURCE}`),
        30_000,
    );
});

test('BrokerCatchUp, run through the admin API, finds a transfer whose webhook never came', async () => {
    const { fileTransferId } = await sim.control.createFileTransfer({
        resourceId: RESOURCE,
        fileName: 'tapt.txt',
        content: 'tapt',
        recipients: [ME],
        sender: SENDER,
        deliver: false,
    });
    const response = await fetch(`${host.url}/admin/functions/BrokerCatchUp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: '' }),
    });
    expect(response.status).toBe(202);
    await host.waitForOutput(new RegExp(`step=catchup-queued [^\\n]*fileTransferId=${fileTransferId}`), 20_000);
    await host.waitForOutput(new RegExp(`step=confirmed eventId=catchup-${fileTransferId}`), 30_000);
    expect((await broker.getBlobClient(`${RESOURCE}/${fileTransferId}/tapt.txt`).downloadToBuffer()).toString()).toBe(
        'tapt',
    );
});

test('a file that never becomes ready for download ends in broker-inbound-poison with its error recorded', async () => {
    const { fileTransferId } = await sim.control.createFileTransfer({
        resourceId: RESOURCE,
        fileName: 'aldri.txt',
        content: 'aldri',
        recipients: [ME],
        sender: SENDER,
        deliver: false,
    });
    await sim.control.addFault({
        endpoint: 'broker.download',
        pathContains: fileTransferId,
        status: 403,
        body: { title: 'Forbidden', status: 403, detail: 'not ready for download' },
        contentType: 'application/problem+json',
    });
    const event = (await sim.control.listEvents()).find(
        (e) => e.resourceinstance === fileTransferId && (e.data as { Role?: string }).Role === 'Recipient',
    )!;
    const inbound = new QueueClient(azurite.connectionString, 'broker-inbound');
    await inbound.sendMessage(Buffer.from(JSON.stringify(event)).toString('base64'));
    const poison = new QueueClient(azurite.connectionString, 'broker-inbound-poison');
    const [text] = await waitUntil(
        async () => {
            if (!(await poison.exists())) return undefined;
            const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: 32 });
            const found = peekedMessageItems.map((item) => decodeQueueMessage(item.messageText));
            return found.length > 0 ? found : undefined;
        },
        30_000,
        'the message in broker-inbound-poison',
    );
    expect(JSON.parse(text)).toEqual(event);
    const failure = await readFailure(
        createStorage({ AzureWebJobsStorage: azurite.connectionString }),
        'broker-inbound',
        event.id,
    );
    expect(failure?.error).toMatch(/HTTP 403.*not ready for download.*the queue will try again/);
    expect(sim.counters().requests['broker.download']).toMatchObject({ '403': 2 });
    expect(await broker.getBlobClient(`${RESOURCE}/${fileTransferId}/filetransfer.json`).exists()).toBe(false);
});
