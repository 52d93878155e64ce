import { createEventsConfirmation } from '../../../functions/eventsConfirmation';
import {
    acceptInstanceEvent,
    acceptQueuedEvent,
    confirmInstance,
    historyOf,
    pipelineFor,
    storeInstance,
} from '../../../shared/instances';
import type { Manifest } from '../../../shared/instances';
import { queues } from '../../../shared/names';
import { connectionStringFor } from '../../support/azurite';
import { invocationContext } from '../../support/functions';
import { startStorageRecorder, type StorageRecorder } from '../../support/storageRecorder';
import { blobText, eventOf, startHarness, type Harness } from './harness';

/*
 * What the hand-off and the substatus cost in storage requests (issue 13 counts them per
 * instance), seen on the wire through recording proxies in front of Azurite's blob and queue
 * endpoints: the hand-off is one enqueue when the caller has the manifest in memory, plus one
 * read of manifest.json when it does not; a substatus that succeeds costs nothing.
 */

jest.setTimeout(60_000);

let h: Harness;
let blob: StorageRecorder;
let queue: StorageRecorder;

beforeAll(async () => {
    h = await startHarness({ SubstatusLabel: 'Mottatt' });
    // As Bicep provisions it in Azure (locally the first hand-off creates it, at two more requests).
    await h.queue(queues.instancesReceived).createIfNotExists();
    [blob, queue] = await Promise.all([
        startStorageRecorder(h.azurite.blobPort),
        startStorageRecorder(h.azurite.queuePort),
    ]);
}, 60_000);

afterAll(async () => {
    await Promise.all([blob?.stop(), queue?.stop()]);
    await h?.stop();
});

/** The instance event of `created` as EventsProcessor accepts it, with its invocation context. */
async function processorMessage(created: Parameters<typeof eventOf>[0]) {
    const { context } = invocationContext('EventsProcessor');
    const pipeline = pipelineFor(h.services, context);
    const queued = await acceptQueuedEvent(pipeline, queues.eventsInbound, eventOf(created), context);
    const message = (await acceptInstanceEvent(pipeline, queued!))!;
    return { context, message };
}

/**
 * A stored instance of two elements, its event waiting on events-confirmation: stored by the
 * processor's own storeInstance, then handed on as the processor does when its own `complete` fails
 * (the processor confirms in its invocation otherwise).
 */
async function storedInstance() {
    const created = await h.sim.control.createInstance({
        app: 'cost-app',
        process: 'completed',
        publish: true,
        dataElements: [
            { dataType: 'model', content: '<skjema/>' },
            { dataType: 'vedlegg', content: 'vedlegg', contentType: 'application/pdf', filename: 'v.pdf' },
        ],
    });
    const { context, message } = await processorMessage(created);
    expect((await storeInstance(pipelineFor(h.services, context), message)).kind).toBe('stored');
    await h.enqueue(eventOf(created), queues.eventsConfirmation);
    return created;
}

/** The storage requests `action` made, as "METHOD comp" and the last path segment. */
async function requestsOf(action: () => Promise<unknown>): Promise<string[]> {
    blob.requests.length = 0;
    queue.requests.length = 0;
    await action();
    return [...blob.requests, ...queue.requests].map((r) => `${r.call} ${r.path.split('/').pop()}`);
}

const recorded = () =>
    h.servicesWith({
        AzureWebJobsStorage: connectionStringFor({ ...h.azurite, blobPort: blob.port, queuePort: queue.port }),
    });

test('the confirmation stage: instance.json checked, manifest.json read, one message queued; the substatus costs nothing', async () => {
    const created = await storedInstance();
    const services = recorded();
    const requests = await requestsOf(() =>
        h.deliver(
            queues.eventsConfirmation,
            createEventsConfirmation(() => services),
        ),
    );
    expect(requests).toEqual(['HEAD instance.json', 'GET manifest.json', 'POST messages']);
    expect(h.sim.counters().completes[created.id]).toBe(1);
    expect(h.sim.counters().requests['apps.substatus']).toEqual({ '200': 1 });
    expect((await h.peek('instances-received')).some((text) => text.includes(created.id))).toBe(true);
});

test('with the manifest in memory (the processor calling confirmInstance after writing instance.json): no read at all', async () => {
    const created = await storedInstance();
    const folder = `ttd/cost-app/${created.instanceGuid}`;
    const manifest = JSON.parse(await blobText(h.container, `${folder}/manifest.json`)) as Manifest;
    const { context, message } = await processorMessage(created);
    const pipeline = pipelineFor(recorded(), context);
    const justStored = { elements: manifest.elements.length, bytes: 0, manifest };
    const requests = await requestsOf(() =>
        confirmInstance(pipeline, message, historyOf(pipeline, message), justStored),
    );
    expect(requests).toEqual(['POST messages']);
});
