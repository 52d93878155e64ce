import { QueueClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { type Simulator } from '../../../dev/simulator/simulator';
import { listPoison } from '../../../shared/poison';
import { createStorage, encodeQueueMessage } from '../../../shared/storage';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { quickQueueSettings, repoRoot, startHostProcess, type HostProcess } from '../../support/host';
import { peekTexts } from '../../support/queues';
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
            ...quickQueueSettings,
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

function messages(name: string): Promise<string[]> {
    return peekTexts(azurite.connectionString, name);
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
