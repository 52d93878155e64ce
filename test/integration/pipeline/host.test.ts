import { QueueClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { type Simulator } from '../../../dev/simulator/simulator';
import { listPoison } from '../../../shared/poison';
import { createStorage, decodeQueueMessage, encodeQueueMessage } from '../../../shared/storage';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { repoRoot, startHostProcess, type HostProcess } from '../../support/host';
import {
    clientRegistration,
    createClientCredentials,
    startTestSimulator,
    waitUntil,
    SERVICEOWNER_SCOPES,
    clientSettings,
} from '../../support/simulator';

/*
 * The pipeline as deployed: the project's own registrations (package.json main) run by the local
 * Functions host in a child process, with short queue retries from AzureFunctionsJobHost__
 * settings. Needs `npm run build` first.
 */

jest.setTimeout(90_000);

let azurite: AzuriteInstance;
let sim: Simulator;
let host: HostProcess;

beforeAll(async () => {
    [azurite, sim] = await Promise.all([startAzurite(), startTestSimulator()]);
    const creds = createClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, SERVICEOWNER_SCOPES));
    host = await startHostProcess({
        appRoot: repoRoot,
        env: {
            AzureWebJobsStorage: azurite.connectionString,
            ...clientSettings(sim, creds, SERVICEOWNER_SCOPES),
            HttpRetryBudgetSeconds: '1',
            // Other functions' timers: far away, so that only the instance pipeline runs here.
            CatchUpSchedule: '0 0 0 1 1 *',
            ReconcileSchedule: '0 0 0 1 1 *',
            SubscriptionsSchedule: '0 0 0 1 1 *',
            AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '2',
            AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:01',
            AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.500',
        },
    });
});

afterAll(async () => {
    await host?.stop(10_000);
    await Promise.all([sim?.stop(), azurite?.stop()]);
});

function queue(name: string): QueueClient {
    return new QueueClient(azurite.connectionString, name);
}

async function messages(name: string): Promise<string[]> {
    const client = queue(name);
    if (!(await client.exists())) return [];
    const { peekedMessageItems } = await client.peekMessages({ numberOfMessages: 32 });
    return peekedMessageItems.map((item) => decodeQueueMessage(item.messageText));
}

test('through the host: a completed instance is stored and confirmed by the deployed functions', async () => {
    const created = await sim.control.createInstance({
        app: 'host-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'model', content: '<form/>' }],
    });
    await queue('events-inbound').sendMessage(encodeQueueMessage(JSON.stringify(created.events[0])));
    await waitUntil(() => (sim.counters().completes[created.id] ? true : undefined), 30_000, 'complete');
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('inbound');
    expect(await container.getBlobClient(`ttd/host-app/${created.instanceGuid}/instance.json`).exists()).toBe(true);
    await host.waitForOutput(new RegExp(`step=confirmed eventId=${created.events[0].id}`), 10_000);
    expect(sim.counters().completes).toEqual({ [created.id]: 1 });
});

test('through the host: persistent 503s end in events-inbound-poison after maxDequeueCount, nothing confirmed', async () => {
    await sim.control.reset();
    await sim.control.addFault({ endpoint: 'apps.getInstance', status: 503 });
    const created = await sim.control.createInstance({
        app: 'host-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'model', content: '<form/>' }],
    });
    const event = created.events[0];
    const text = JSON.stringify(event);
    await queue('events-inbound').sendMessage(encodeQueueMessage(text));

    const poisoned = await waitUntil(
        async () => {
            const found = await messages('events-inbound-poison');
            return found.length > 0 ? found : undefined;
        },
        45_000,
        'the message in events-inbound-poison',
    );
    expect(poisoned.map((m) => JSON.parse(m) as unknown)).toEqual([event]);
    expect(await messages('events-inbound')).toEqual([]);
    expect(await messages('events-confirmation')).toEqual([]);
    expect(sim.counters().completes).toEqual({});
    expect(sim.counters().requests['apps.complete']).toBeUndefined();
    // Two invocations, each retrying in place within its budget.
    expect(sim.counters().requests['apps.getInstance']['503']).toBeGreaterThanOrEqual(4);
    expect(host.output()).toMatch(/Message has reached MaxDequeueCount of 2/);
    const failures = host.output().match(new RegExp(`step=failed eventId=${event.id}[^\\n]*attempt=\\d`, 'g')) ?? [];
    expect(failures.map((line) => /attempt=(\d)/.exec(line)![1])).toEqual(['1', '2']);
    // The poison tool shows why: the final attempt's error was recorded beside the message.
    const listed = await listPoison(createStorage({ AzureWebJobsStorage: azurite.connectionString }), [
        'events-inbound',
    ]);
    expect(listed.map((m) => m.eventId)).toEqual([event.id]);
    expect(listed[0].lastError).toMatch(/503/);
});
