import { createEventsProcessor } from '../../../functions/eventsProcessor';
import { recordingFailures } from '../../../shared/failures';
import { instanceSubject, ledgerOf } from '../../../shared/ledger';
import { queues } from '../../../shared/names';
import { type CreatedInstance } from '../../../dev/simulator/types';
import { connectionStringFor } from '../../support/azurite';
import { startStorageRecorder, type StorageRecorder } from '../../support/storageRecorder';
import type { Manifest } from '../../../shared/instances';
import { blobText, eventOf, startHarness, steps, type Harness } from './harness';

/*
 * What the ledger costs per instance: a new instance stored, confirmed and handed off in the
 * processor's invocation is one table request (the insert of every fact together); a repeat of a
 * settled instance is one read and writes nothing; a retry never moves first seen.
 */

jest.setTimeout(60_000);

let h: Harness;
let recorder: StorageRecorder;
let processor: ReturnType<typeof createEventsProcessor>;
let services: Harness['services'];

beforeAll(async () => {
    h = await startHarness();
    // Only the table endpoint goes through the recorder: it counts what the ledger sends.
    recorder = await startStorageRecorder(h.azurite.tablePort);
    services = h.servicesWith({
        AzureWebJobsStorage: connectionStringFor({ ...h.azurite, tablePort: recorder.port }),
    });
    processor = createEventsProcessor(() => services);
});

afterAll(async () => {
    await recorder?.stop();
    await h?.stop();
});

function createSubmission(): Promise<CreatedInstance> {
    return h.sim.control.createInstance({
        app: 'ledger-cost-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'model', contentType: 'application/xml', filename: 'a.xml', content: '<a/>' }],
    });
}

function subjectOf(created: CreatedInstance) {
    return instanceSubject({
        org: 'ttd',
        app: 'ledger-cost-app',
        partyId: String(created.partyId),
        instanceGuid: created.instanceGuid,
    });
}

/** Requests on the ledger's entities (table creation, once per process, is not per instance). */
function entityRequests(): string[] {
    return recorder.requests.filter((r) => !r.path.endsWith('/Tables')).map((r) => `${r.call} ${r.path}`);
}

test('a new instance stored and confirmed in one invocation costs one table request, with every fact', async () => {
    const created = await createSubmission();
    await h.enqueue(eventOf(created));
    recorder.requests.length = 0;
    const started = new Date();
    const run = await h.deliver(queues.eventsInbound, processor);
    expect(run.error).toBeUndefined();
    expect(steps(run.logs, 'confirmed')).toHaveLength(1);
    expect(steps(run.logs, 'ledger-write-failed')).toEqual([]);

    expect(entityRequests()).toHaveLength(1);
    expect(entityRequests()[0]).toMatch(/^POST .*\/ledger$/);

    const ledger = ledgerOf(h.services.storage);
    const subject = subjectOf(created);
    const entry = await ledger.get(subject);
    expect(entry).toMatchObject({ firstSeenVia: 'webhook', elements: 1, confirmed: true });
    expect(entry?.firstSeenAt?.getTime()).toBeGreaterThanOrEqual(started.getTime() - 1000);
    expect(entry?.storedAt?.getTime()).toBeGreaterThanOrEqual(entry!.firstSeenAt!.getTime());
    expect(entry?.confirmedAt?.getTime()).toBeGreaterThanOrEqual(entry!.storedAt!.getTime());

    // Every fact of a settled instance: handed off with the version stored, the event handled.
    const folder = `ttd/ledger-cost-app/${created.instanceGuid}`;
    const manifest = JSON.parse(await blobText(h.container, `${folder}/manifest.json`)) as Manifest;
    expect(entry).toMatchObject({
        handedOff: true,
        handedOffVersion: manifest.version,
        handledEventIds: [eventOf(created).id],
    });

    // The same event again: Altinn shows it confirmed, the ledger shows this version handed off;
    // one read of the entry, nothing written, nothing moved.
    await h.enqueue(eventOf(created));
    recorder.requests.length = 0;
    const repeat = await h.deliver(queues.eventsInbound, processor);
    expect(repeat.error).toBeUndefined();
    expect(repeat.logs.map((log) => log.message.split(' ')[0])).toEqual(['step=already-done']);
    expect(entityRequests()).toHaveLength(1);
    expect(entityRequests()[0]).toMatch(/^GET .*\/ledger\(/);
    const after = await ledger.get(subject);
    expect(after?.firstSeenAt).toEqual(entry?.firstSeenAt);
    expect(after?.confirmedAt).toEqual(entry?.confirmedAt);
});

test('a failed attempt records first seen before its failure; the retry adds stored and confirmed, first seen unmoved', async () => {
    await h.sim.control.reset();
    const created = await createSubmission();
    await h.sim.control.addFault({ endpoint: 'storage.getData', status: 500, times: 1 });
    const handler = recordingFailures(queues.eventsInbound, () => services.storage, processor);
    const ledger = ledgerOf(h.services.storage);

    await h.enqueue(eventOf(created));
    const failed = await h.deliver(queues.eventsInbound, handler, 1);
    expect(failed.error).toBeDefined();
    const afterFailure = await ledger.get(subjectOf(created));
    expect(afterFailure).toMatchObject({ firstSeenVia: 'webhook', confirmed: false, lastFailureStep: 'store' });
    expect(afterFailure?.firstSeenAt).toBeInstanceOf(Date);
    expect(afterFailure?.storedAt).toBeUndefined();

    await h.enqueue(eventOf(created));
    const retried = await h.deliver(queues.eventsInbound, handler, 2);
    expect(retried.error).toBeUndefined();
    const entry = await ledger.get(subjectOf(created));
    expect(entry).toMatchObject({ confirmed: true, elements: 1, lastFailureStep: 'store' });
    expect(entry?.firstSeenAt).toEqual(afterFailure?.firstSeenAt);
    expect(entry?.storedAt).toBeInstanceOf(Date);
});
