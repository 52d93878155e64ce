import { createEventsProcessor } from '../../../functions/eventsProcessor';
import { generatedDigest } from '../../../dev/simulator/dataGenerator';
import { type CreatedInstance } from '../../../dev/simulator/types';
import { queues } from '../../../shared/names';
import type { Instance } from '../../../shared/altinn/apps';
import { instanceVersion, type Manifest } from '../../../shared/instances';
import { ledgerOf } from '../../../shared/ledger';
import { listPoison } from '../../../shared/poison';
import { decodeQueueMessage } from '../../../shared/storage';
import { connectionStringFor } from '../../support/azurite';
import { startStorageRecorder } from '../../support/storageRecorder';
import {
    blobNames,
    blobSha256,
    blobText,
    eventFor,
    eventOf,
    fieldsOf,
    startHarness,
    steps,
    type Harness,
} from './harness';

/* The instance pipeline end to end without feedback (the processor stores and confirms), against Azurite and the simulator. */

jest.setTimeout(60_000);

let h: Harness;
let processor: ReturnType<typeof createEventsProcessor>;

beforeAll(async () => {
    h = await startHarness();
    processor = createEventsProcessor(() => h.services);
});

afterAll(() => h?.stop());

beforeEach(async () => {
    await h.sim.control.reset();
    await h.clearQueues();
});

const unicodeName = 'søknad æøå ✓.pdf';

function createSubmission(): Promise<CreatedInstance> {
    return h.sim.control.createInstance({
        app: 'pipeline-app',
        process: 'completed',
        publish: true,
        dataElements: [
            {
                dataType: 'model',
                contentType: 'application/xml',
                filename: 'skjema.xml',
                content: '<skjema><navn>Åse</navn></skjema>',
            },
            {
                dataType: 'attachment',
                contentType: 'application/pdf',
                filename: unicodeName,
                size: 300_000,
                seed: 'pdf',
            },
            { dataType: 'empty', contentType: 'text/plain', filename: 'empty.txt', size: 0 },
        ],
    });
}

test('an instance is stored element by element, instance.json last, confirmed once, with a log line per step', async () => {
    const created = await createSubmission();
    const event = eventOf(created);
    await h.enqueue(event);

    const processed = await h.deliver(queues.eventsInbound, processor, 1);
    expect(processed.error).toBeUndefined();

    const folder = `ttd/pipeline-app/${created.instanceGuid}`;
    const [xml, pdf, empty] = created.dataElements;
    expect(await blobNames(h.container)).toEqual(
        [
            `${folder}/instance.json`,
            `${folder}/manifest.json`,
            ...created.dataElements.map((d) => `${folder}/data/${d.id}`),
        ].sort(),
    );
    // Each data blob as Altinn serves it: bytes, Content-Type, Content-Disposition and ASCII metadata.
    expect(await blobText(h.container, `${folder}/data/${xml.id}`)).toBe('<skjema><navn>Åse</navn></skjema>');
    expect(await blobSha256(h.container, `${folder}/data/${pdf.id}`)).toBe(await generatedDigest('pdf', 300_000));
    const pdfProps = await h.container.getBlobClient(`${folder}/data/${pdf.id}`).getProperties();
    expect(pdfProps.contentLength).toBe(300_000);
    expect(pdfProps.contentType).toBe('application/pdf');
    expect(pdfProps.contentDisposition).toBe(
        `attachment; filename="s_knad ___ _.pdf"; filename*=UTF-8''s%C3%B8knad%20%C3%A6%C3%B8%C3%A5%20%E2%9C%93.pdf`,
    );
    const { data } = (await h.sim.control.getInstance(created.id)) as { data: { id: string; lastChanged: string }[] };
    const pdfElement = data.find((d) => d.id === pdf.id)!;
    expect(pdfProps.metadata).toEqual({
        datatype: 'attachment',
        filename: encodeURIComponent(unicodeName),
        sha256: await generatedDigest('pdf', 300_000),
        lastchanged: encodeURIComponent(String(pdfElement.lastChanged)),
    });
    expect(decodeURIComponent(pdfProps.metadata!.filename)).toBe(unicodeName);
    const xmlProps = await h.container.getBlobClient(`${folder}/data/${xml.id}`).getProperties();
    expect(xmlProps.contentType).toBe('application/xml');
    expect(xmlProps.contentDisposition).toBe('attachment; filename="skjema.xml"');
    const emptyProps = await h.container.getBlobClient(`${folder}/data/${empty.id}`).getProperties();
    expect(emptyProps.contentLength).toBe(0);
    expect(emptyProps.contentType).toBe('text/plain');

    // instance.json: the app API's document as sent, newer than every data blob.
    const instanceProps = await h.container.getBlobClient(`${folder}/instance.json`).getProperties();
    expect(instanceProps.contentType).toBe('application/json');
    const stored = JSON.parse(await blobText(h.container, `${folder}/instance.json`)) as Record<string, unknown>;
    // As fetched: complete, right after, moved lastChanged on and added the owner's confirmation.
    const current = await h.sim.control.getInstance(created.id);
    expect(stored).toEqual({
        ...current,
        lastChanged: stored.lastChanged,
        lastChangedBy: stored.lastChangedBy,
        completeConfirmations: null,
    });
    expect(instanceProps.metadata).toMatchObject({
        eventid: encodeURIComponent(event.id),
        lastchanged: encodeURIComponent(String(stored.lastChanged)),
        elements: '3',
        bytes: String(300_000 + Buffer.byteLength('<skjema><navn>Åse</navn></skjema>')),
    });

    // Confirmed in the same invocation (no feedback is configured): nothing is queued for a later stage.
    expect(await h.peek(queues.eventsFeedback)).toEqual([]);
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
    expect(steps(processed.logs, 'queued-next')).toEqual([]);

    // One line per step, each with eventId and instanceId; bytes and durations where they mean something.
    const lines = processed.logs.map((log) => log.message);
    const fetchedLine = fieldsOf(steps(processed.logs, 'instance-fetched')[0].message);
    expect(fetchedLine).toMatchObject({ eventId: event.id, instanceId: created.id, elements: '3', attempt: '1' });
    expect(Number(fetchedLine.durationMs)).toBeGreaterThanOrEqual(0);
    const dataLines = steps(processed.logs, 'data-stored').map((log) => fieldsOf(log.message));
    expect(dataLines.map((f) => [f.dataElementId, f.bytes]).sort()).toEqual(
        [
            [xml.id, String(xml.size)],
            [pdf.id, '300000'],
            [empty.id, '0'],
        ].sort(),
    );
    dataLines.forEach((f) => expect(f).toMatchObject({ eventId: event.id, instanceId: created.id }));
    expect(fieldsOf(steps(processed.logs, 'instance-stored')[0].message)).toMatchObject({
        eventId: event.id,
        instanceId: created.id,
        elements: '3',
        downloaded: '3',
    });
    expect(lines.findIndex((l) => l.startsWith('step=instance-stored'))).toBeGreaterThan(
        Math.max(...lines.map((l, i) => (l.startsWith('step=data-stored') ? i : -1))),
    );

    // complete only after instance.json was written, and once.
    const confirmedAt = lines.findIndex((l) => l.startsWith('step=confirmed'));
    expect(confirmedAt).toBeGreaterThan(lines.findIndex((l) => l.startsWith('step=instance-stored')));
    expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
    expect(fieldsOf(lines[confirmedAt])).toMatchObject({
        eventId: event.id,
        instanceId: created.id,
        elements: '3',
        bytes: instanceProps.metadata!.bytes,
    });
    // Altinn now holds the owner's confirmation.
    const after = await h.sim.control.getInstance(created.id);
    expect(after.completeConfirmations).toEqual([expect.objectContaining({ stakeholderId: 'ttd' })]);
});

test('instance.json appears only after every data blob (watched while a download is slow)', async () => {
    const created = await h.sim.control.createInstance({
        app: 'order-app',
        process: 'completed',
        publish: true,
        dataElements: [
            { dataType: 'a', size: 10_000, seed: 'a' },
            { dataType: 'b', size: 20_000, seed: 'b' },
            { dataType: 'slow', size: 30_000, seed: 'slow' },
        ],
    });
    const slow = created.dataElements[2];
    await h.sim.control.addFault({ endpoint: 'storage.getData', pathContains: slow.id, latencyMs: 1_000 });
    await h.enqueue(eventOf(created));

    const folder = `ttd/order-app/${created.instanceGuid}`;
    const snapshots: string[][] = [];
    let done = false;
    const watching = (async () => {
        while (!done) {
            snapshots.push(await blobNames(h.container, folder));
            await new Promise((r) => setTimeout(r, 20));
        }
    })();
    const run = await h.deliver(queues.eventsInbound, processor);
    done = true;
    await watching;
    snapshots.push(await blobNames(h.container, folder));

    expect(run.error).toBeUndefined();
    const dataNames = created.dataElements.map((d) => `${folder}/data/${d.id}`);
    for (const snapshot of snapshots) {
        if (snapshot.includes(`${folder}/instance.json`)) expect(snapshot).toEqual(expect.arrayContaining(dataNames));
    }
    // The watcher did see the in-between state: some data stored, no instance.json yet.
    expect(snapshots.some((s) => s.length > 0 && !s.includes(`${folder}/instance.json`))).toBe(true);
    expect(snapshots[snapshots.length - 1]).toContain(`${folder}/instance.json`);
});

test('manifest.json lists every element with the SHA-256 Altinn served, written after the data and just before instance.json', async () => {
    // The processor talks to Azurite through a recording proxy, to see the order of the writes.
    const recorder = await startStorageRecorder(h.azurite.blobPort);
    try {
        const services = h.servicesWith({
            AzureWebJobsStorage: connectionStringFor({ ...h.azurite, blobPort: recorder.port }),
        });
        const created = await createSubmission();
        await h.enqueue(eventOf(created));
        const run = await h.deliver(
            queues.eventsInbound,
            createEventsProcessor(() => services),
        );
        expect(run.error).toBeUndefined();

        const folder = `ttd/pipeline-app/${created.instanceGuid}`;
        const instance = JSON.parse(await blobText(h.container, `${folder}/instance.json`)) as {
            lastChanged: string;
            data: { id: string; dataType: string; contentType: string; filename: string }[];
        };
        const manifest = JSON.parse(await blobText(h.container, `${folder}/manifest.json`)) as Manifest;
        const served = await Promise.all(created.dataElements.map((d) => h.sim.control.contentDigest(d.id)));
        expect(manifest).toEqual({
            instanceId: created.id,
            org: 'ttd',
            app: 'pipeline-app',
            storedAt: expect.any(String) as unknown,
            lastChanged: instance.lastChanged,
            version: instanceVersion(instance as unknown as Instance),
            elements: instance.data.map((d, i) => ({
                id: d.id,
                dataType: d.dataType,
                blob: `${folder}/data/${d.id}`,
                size: served[i].size,
                sha256: served[i].sha256,
                contentType: d.contentType,
                filename: d.filename,
                fileScanResult: 'NotApplicable',
                quarantined: false,
            })),
        });
        const instanceProps = await h.container.getBlobClient(`${folder}/instance.json`).getProperties();
        expect(instanceProps.metadata?.storedat).toBe(manifest.storedAt);
        expect(instanceProps.metadata?.version).toBe(manifest.version);
        for (const element of manifest.elements) {
            const props = await h.container.getBlobClient(element.blob).getProperties();
            expect(props.metadata?.sha256).toBe(element.sha256);
        }
        expect(fieldsOf(steps(run.logs, 'data-stored')[0].message).sha256).toMatch(/^[0-9a-f]{64}$/);

        // Each element (all smaller than the 4 MiB upload buffer) is one Put Blob; then the manifest, then instance.json.
        const writes = recorder.requests
            .filter((r) => r.call.startsWith('PUT') && r.path.includes(created.instanceGuid))
            .map((r) => `${r.call} ${r.path.slice(r.path.indexOf(folder) + folder.length + 1)}`);
        expect(writes.slice(0, 3).sort()).toEqual(created.dataElements.map((d) => `PUT data/${d.id}`).sort());
        expect(writes.slice(3)).toEqual(['PUT manifest.json', 'PUT instance.json']);
    } finally {
        await recorder.stop();
    }
});

test('a repeat of a stored, confirmed, handed-off instance costs one GET and one log line: step=already-done', async () => {
    const created = await createSubmission();
    const event = eventOf(created);
    await h.enqueue(event);
    expect((await h.deliver(queues.eventsInbound, processor)).error).toBeUndefined();
    expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
    const before = h.sim.counters();
    const storedBefore = await blobText(h.container, `ttd/pipeline-app/${created.instanceGuid}/instance.json`);
    const handedOff = await h.peek(queues.instancesReceived);

    // The same event again (at-least-once delivery), and another event for the same instance.
    await h.enqueue(event);
    await h.enqueue(eventFor(created.url));
    for (let i = 0; i < 2; i++) {
        const run = await h.deliver(queues.eventsInbound, processor);
        expect(run.error).toBeUndefined();
        expect(run.logs.map((log) => log.message.split(' ')[0])).toEqual(['step=already-done']);
        expect(fieldsOf(run.logs[0].message)).toMatchObject({ instanceId: created.id });
    }
    const after = h.sim.counters();
    expect(after.requests['apps.getInstance']['200']).toBe(before.requests['apps.getInstance']['200'] + 2);
    // Nothing else: no download, no complete, no second hand-off.
    expect(after.requests['storage.getData']).toEqual(before.requests['storage.getData']);
    expect(after.requests['apps.getData']).toBeUndefined();
    expect(after.completes).toEqual({ [created.id]: 1 });
    expect(await h.peek(queues.instancesReceived)).toEqual(handedOff);
    expect(await blobText(h.container, `ttd/pipeline-app/${created.instanceGuid}/instance.json`)).toBe(storedBefore);
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
});

test('the same event taken by two processors at once: one stores, confirms and hands off; the other stops at step=already-done', async () => {
    const created = await createSubmission();
    const event = eventOf(created);
    await h.enqueue(event);
    await h.enqueue(event);
    const runs = await Promise.all([
        h.deliver(queues.eventsInbound, processor, 1),
        h.deliver(queues.eventsInbound, processor, 1),
    ]);
    expect(runs.map((run) => run.error)).toEqual([undefined, undefined]);
    const stopped = runs.flatMap((run) => steps(run.logs, 'already-done'));
    expect(stopped).toHaveLength(1);
    expect(fieldsOf(stopped[0].message).reason).toMatch(/another copy of this event stored this version/);
    expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
    const handedOff = (await h.peek(queues.instancesReceived)).filter((text) => text.includes(created.id));
    expect(handedOff).toHaveLength(1);
});

test('a retry keeps what a failed attempt stored, also before instance.json exists: an element failing twice, the elements before it fetched once', async () => {
    // One element at a time, in order, and no retries within an attempt: each attempt stops at the failing element.
    const services = h.servicesWith({ DownloadConcurrency: '1', HttpRetryBudgetSeconds: '0' });
    const oneByOne = createEventsProcessor(() => services);
    const created = await h.sim.control.createInstance({
        app: 'resume-app',
        process: 'completed',
        publish: true,
        dataElements: [
            { dataType: 'a', size: 40_000, seed: 'a' },
            { dataType: 'b', size: 50_000, seed: 'b' },
            { dataType: 'c', size: 60_000, seed: 'c' },
            { dataType: 'failing', size: 70_000, seed: 'failing' },
        ],
    });
    const [a, b, c, failing] = created.dataElements;
    const fault = await h.sim.control.addFault({ endpoint: 'storage.getData', pathContains: failing.id, status: 500 });
    const folder = `ttd/resume-app/${created.instanceGuid}`;

    for (const attempt of [1, 2]) {
        await h.enqueue(eventOf(created));
        const run = await h.deliver(queues.eventsInbound, oneByOne, attempt);
        expect(run.error).toBeDefined();
        expect(await blobNames(h.container, folder)).toEqual([a, b, c].map((d) => `${folder}/data/${d.id}`).sort());
    }
    // Each element before the failing one was fetched once, although instance.json never got written.
    const served = h.sim.counters().contentBytes;
    expect([a, b, c].map((d) => served[d.id])).toEqual([40_000, 50_000, 60_000]);
    expect(h.sim.counters().completes).toEqual({});

    // One kept blob goes missing; the next attempt fetches it and the failing one, nothing else.
    await h.container.deleteBlob(`${folder}/data/${b.id}`);
    await h.sim.control.removeFault(fault.id);
    await h.enqueue(eventOf(created));
    const last = await h.deliver(queues.eventsInbound, oneByOne, 3);
    expect(last.error).toBeUndefined();
    expect(steps(last.logs, 'data-stored').map((l) => fieldsOf(l.message).dataElementId)).toEqual([b.id, failing.id]);
    const after = h.sim.counters().contentBytes;
    expect([a, b, c, failing].map((d) => after[d.id])).toEqual([40_000, 100_000, 60_000, 70_000]);
    const manifest = JSON.parse(await blobText(h.container, `${folder}/manifest.json`)) as Manifest;
    const digests = await Promise.all(created.dataElements.map((d) => h.sim.control.contentDigest(d.id)));
    expect(manifest.elements.map((e) => [e.id, e.size, e.sha256])).toEqual(
        digests.map((d) => [d.id, d.size, d.sha256]),
    );
    expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
});

test('a copy of the instance older than what is stored writes nothing over it: the attempt fails and the retry fetches again', async () => {
    const created = await createSubmission();
    await h.enqueue(eventOf(created));
    expect((await h.deliver(queues.eventsInbound, processor)).error).toBeUndefined();
    const folder = `ttd/pipeline-app/${created.instanceGuid}`;
    const [xml] = created.dataElements;
    const blob = h.container.getBlobClient(`${folder}/data/${xml.id}`);
    // As if another processor had stored a later version of this element meanwhile.
    const { metadata } = await blob.getProperties();
    await blob.setMetadata({ ...metadata, lastchanged: encodeURIComponent('2999-01-01T00:00:00Z') });
    const before = (await blob.getProperties()).etag;
    const manifestBefore = await blobText(h.container, `${folder}/manifest.json`);
    // The ledger knows nothing of it (else a confirmed, handed-off instance stops at step=already-done).
    await ledgerOf(h.services.storage).table.deleteEntity('instance:ttd:pipeline-app', created.instanceGuid);

    await h.enqueue(eventFor(created.url, 'app.instance.process.completed', 'later-event'));
    const run = await h.deliver(queues.eventsInbound, processor, 2);
    expect((run.error as Error).name).toBe('StaleSnapshotError');
    expect((await blob.getProperties()).etag).toBe(before);
    expect(await blobText(h.container, `${folder}/manifest.json`)).toBe(manifestBefore);
});

test('an instance without data elements is stored and confirmed', async () => {
    const created = await h.sim.control.createInstance({ app: 'empty-app', process: 'completed', publish: true });
    await h.enqueue(eventOf(created));
    expect((await h.deliver(queues.eventsInbound, processor)).error).toBeUndefined();
    expect(await blobNames(h.container, `ttd/empty-app/${created.instanceGuid}`)).toEqual([
        `ttd/empty-app/${created.instanceGuid}/instance.json`,
        `ttd/empty-app/${created.instanceGuid}/manifest.json`,
    ]);
    const manifest = JSON.parse(
        await blobText(h.container, `ttd/empty-app/${created.instanceGuid}/manifest.json`),
    ) as Manifest;
    expect(manifest).toMatchObject({ instanceId: created.id, elements: [] });
    expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
});

test('the validation event and types not configured are dropped with a log line, without a request', async () => {
    const created = await createSubmission();
    await h.enqueue({
        specversion: '1.0',
        id: 'validation-1',
        source: `${h.sim.platformUrl}/events/api/v1/subscriptions/1`,
        type: 'platform.events.validatesubscription',
    });
    await h.enqueue(eventFor(created.url, 'app.instance.created', 'created-1'));
    for (const id of ['validation-1', 'created-1']) {
        const run = await h.deliver(queues.eventsInbound, processor);
        expect(run.error).toBeUndefined();
        expect(fieldsOf(steps(run.logs, 'event-skipped')[0].message)).toMatchObject({
            eventId: id,
            reason: 'type not processed',
        });
    }
    expect(h.sim.counters().requests).toEqual({});
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
});

test('a message that is not a CloudEvent is refused into events-inbound-poison as received, never to expire, with the reason', async () => {
    const notEvent = { specversion: '1.0', id: 'no-source', type: 'app.instance.process.completed' };
    await h.enqueue('this is not json');
    await h.enqueue(notEvent);
    for (let i = 0; i < 2; i++) {
        const run = await h.deliver(queues.eventsInbound, processor);
        expect(run.error).toBeUndefined();
        expect(run.logs.map((log) => log.level)).toEqual(['error']);
        expect(run.logs[0].message).toMatch(/^step=refused .*reason="not a CloudEvent: .*queue=events-inbound-poison/);
    }
    expect(h.sim.counters().requests).toEqual({});

    const { peekedMessageItems } = await h.queue('events-inbound-poison').peekMessages({ numberOfMessages: 32 });
    expect(peekedMessageItems.map((item) => decodeQueueMessage(item.messageText))).toEqual([
        'this is not json',
        JSON.stringify(notEvent),
    ]);
    // Time-to-live -1: storage reports the end of year 9999 (the default would be 7 days from now).
    expect(peekedMessageItems.map((item) => item.expiresOn.toISOString())).toEqual([
        '9999-12-31T23:59:59.000Z',
        '9999-12-31T23:59:59.000Z',
    ]);
    // `aos poison list` shows why: the one without an id by its message id, the other by its event id.
    const listed = await listPoison(h.services.storage, [queues.eventsInbound]);
    expect(listed.map((m) => [m.eventId, m.refused, m.lastError?.startsWith('not a CloudEvent: ')])).toEqual([
        [undefined, true, true],
        ['no-source', true, true],
    ]);
});

test('after a failed complete, a retry of the message reads the store and downloads nothing again', async () => {
    const created = await createSubmission();
    const fault = await h.sim.control.addFault({ endpoint: 'apps.complete', status: 400 });
    await h.enqueue(eventOf(created));
    const first = await h.deliver(queues.eventsInbound, processor, 1);
    expect(first.error).toBeUndefined();
    expect(steps(first.logs, 'confirm-deferred')).toHaveLength(1);
    expect(await h.peek(queues.eventsConfirmation)).toHaveLength(1);
    await h.sim.control.removeFault(fault.id);
    const downloads = h.sim.counters().requests['storage.getData'];

    // The same message again (its invocation died after the hand-on, say): attempt 2 looks in the store first.
    await h.enqueue(eventOf(created));
    const retry = await h.deliver(queues.eventsInbound, processor, 2);
    expect(retry.error).toBeUndefined();
    expect(steps(retry.logs, 'instance-unchanged')).toHaveLength(1);
    expect(h.sim.counters().requests['storage.getData']).toEqual(downloads);
    expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
});
