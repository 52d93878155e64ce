import { QueueClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { type Simulator } from '../../../dev/simulator/simulator';
import { listPoison } from '../../../shared/poison';
import { createStorage, encodeQueueMessage } from '../../../shared/storage';
import type { AzuriteInstance } from '../../support/azurite';
import type { HostProcess } from '../../support/host';
import { startPipelineHost, type PipelineHost } from '../../support/pipelineHost';
import { peekTexts, waitForSome } from '../../support/queues';
import { waitUntil } from '../../support/simulator';

/*
 * The pipeline as deployed: the project's own registrations (package.json main) run by the local
 * Functions host in a child process, with short queue retries from AzureFunctionsJobHost__
 * settings. Needs `npm run build` first.
 */

jest.setTimeout(90_000);

let azurite: AzuriteInstance;
let sim: Simulator;
let host: HostProcess;
let stack: PipelineHost;

beforeAll(async () => {
    stack = await startPipelineHost({ ScanRecheckSeconds: '1' });
    ({ azurite, sim, host } = stack);
});

afterAll(() => stack?.stop());

function queue(name: string): QueueClient {
    return new QueueClient(azurite.connectionString, name);
}

function messages(name: string): Promise<string[]> {
    return peekTexts(azurite.connectionString, name);
}

/** Waits until events-inbound-poison holds a message, and returns its messages. */
function poisonedMessages(): Promise<string[]> {
    return waitForSome(() => messages('events-inbound-poison'), 45_000, 'the message in events-inbound-poison');
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
    const poisoned = await poisonedMessages();
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

test('through the host: an instance waits for a Pending scan without failing, and is stored and confirmed once Clean', async () => {
    await sim.control.reset();
    const created = await sim.control.createInstance({
        app: 'host-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'attachment', size: 1000, seed: 'scan', fileScanResult: 'Pending' }],
    });
    const event = created.events[0];
    const from = host.output().length;
    await queue('events-inbound').sendMessage(encodeQueueMessage(JSON.stringify(event)));
    await host.waitForOutput(new RegExp(`step=scan-pending eventId=${event.id}`), 15_000, from);
    // Checked again every second (more than maxDequeueCount times), never as a failed attempt.
    await waitUntil(
        () =>
            (
                host
                    .output()
                    .slice(from)
                    .match(/step=scan-pending /g) ?? []
            ).length >= 3
                ? true
                : undefined,
        15_000,
        'three scan rechecks',
    );
    expect(sim.counters().completes).toEqual({});
    await sim.control.setFileScanResult(created.dataElements[0].id, 'Clean');
    await waitUntil(() => (sim.counters().completes[created.id] ? true : undefined), 30_000, 'complete');
    expect(host.output().slice(from)).not.toMatch(/step=failed /);
    expect((await messages('events-inbound-poison')).filter((m) => m.includes(event.id))).toEqual([]);
});

test('through the host: a scan Pending beyond ScanWaitHours ends in events-inbound-poison, nothing stored', async () => {
    await sim.control.reset();
    await queue('events-inbound-poison').clearMessages();
    const created = await sim.control.createInstance({
        app: 'host-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'attachment', size: 1000, seed: 'stuck', fileScanResult: 'Pending' }],
    });
    const since = new Date(Date.now() - 25 * 3_600_000).toISOString();
    const event = { ...created.events[0], aosscanpendingsince: since };
    await queue('events-inbound').sendMessage(encodeQueueMessage(JSON.stringify(event)));
    const poisoned = await poisonedMessages();
    expect(poisoned.map((m) => JSON.parse(m) as unknown)).toEqual([event]);
    expect(host.output()).toMatch(
        new RegExp(
            `step=scan-wait-exceeded eventId=${event.id} instanceId=${created.id} [^\\n]*dataElementId=${created.dataElements[0].id}`,
        ),
    );
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('inbound');
    expect(await container.getBlobClient(`ttd/host-app/${created.instanceGuid}/instance.json`).exists()).toBe(false);
    expect(sim.counters().completes).toEqual({});
});
