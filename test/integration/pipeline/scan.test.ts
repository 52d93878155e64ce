import { createEventsProcessor } from '../../../functions/eventsProcessor';
import { type CreatedInstance, type DataElementInput } from '../../../dev/simulator/types';
import { ledgerOf } from '../../../shared/ledger';
import { containers, queues } from '../../../shared/names';
import { ScanWaitExceededError, scanPendingSinceAttribute, type Manifest } from '../../../shared/instances';
import { blobNames, blobSha256, blobText, eventOf, fieldsOf, startHarness, steps, type Harness } from './harness';

/*
 * Altinn's malware scan results (fileScanResult on each data element) against Azurite and the
 * simulator: an Infected element goes to container quarantine and the instance is still stored
 * and confirmed; a Pending one holds the whole instance back, the event coming back later until
 * the scan ends, or failing once ScanWaitHours have passed.
 */

jest.setTimeout(60_000);

let h: Harness;
let processor: ReturnType<typeof createEventsProcessor>;

beforeAll(async () => {
    h = await startHarness({ ScanRecheckSeconds: '1' });
    processor = createEventsProcessor(() => h.services);
});

afterAll(() => h?.stop());

beforeEach(async () => {
    await h.sim.control.reset();
    await h.clearQueues();
});

const quarantine = () => h.services.storage.container(containers.quarantine);

/** A completed, published instance of scan-app with these data elements. */
function submission(dataElements: DataElementInput[]): Promise<CreatedInstance> {
    return h.sim.control.createInstance({ app: 'scan-app', process: 'completed', publish: true, dataElements });
}

test('an Infected element lands only in quarantine, the manifest says so, and the instance is stored and confirmed', async () => {
    const created = await submission([
        { dataType: 'model', contentType: 'application/xml', content: '<skjema/>', fileScanResult: 'Clean' },
        {
            dataType: 'attachment',
            contentType: 'application/pdf',
            filename: 'virus.pdf',
            size: 20_000,
            seed: 'eicar',
            fileScanResult: 'Infected',
        },
    ]);
    const [model, infected] = created.dataElements;
    const event = eventOf(created);
    await h.enqueue(event);
    const run = await h.deliver(queues.eventsInbound, processor);
    expect(run.error).toBeUndefined();

    const folder = `ttd/scan-app/${created.instanceGuid}`;
    expect(await blobNames(h.container, folder)).toEqual(
        [`${folder}/data/${model.id}`, `${folder}/instance.json`, `${folder}/manifest.json`].sort(),
    );
    const served = await h.sim.control.contentDigest(infected.id);
    expect(await blobNames(quarantine())).toEqual([`${folder}/data/${infected.id}`]);
    expect(await blobSha256(quarantine(), `${folder}/data/${infected.id}`)).toBe(served.sha256);

    const manifest = JSON.parse(await blobText(h.container, `${folder}/manifest.json`)) as Manifest;
    expect(manifest.elements.map((e) => [e.id, e.fileScanResult, e.quarantined, e.blob, e.sha256])).toEqual([
        [model.id, 'Clean', false, `${folder}/data/${model.id}`, (await h.sim.control.contentDigest(model.id)).sha256],
        [infected.id, 'Infected', true, `${folder}/data/${infected.id}`, served.sha256],
    ]);

    const alerts = steps(run.logs, 'infected');
    expect(alerts.map((l) => l.level)).toEqual(['error']);
    expect(fieldsOf(alerts[0].message)).toMatchObject({
        eventId: event.id,
        instanceId: created.id,
        dataElementId: infected.id,
        container: 'quarantine',
    });

    // Confirmed like any other instance (in the processor's own invocation, no feedback being
    // configured): the agency has the bytes, kept away from case workers.
    expect(await h.peek(queues.eventsConfirmation)).toHaveLength(0);
    expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });

    // A retry that stores again (the ledger says nothing of it: a repeat of a handed-off instance
    // would stop at step=already-done) finds the quarantined element where it belongs and downloads nothing.
    await ledgerOf(h.services.storage).table.deleteEntity(`instance:ttd:scan-app`, created.instanceGuid);
    await h.enqueue(event);
    const again = await h.deliver(queues.eventsInbound, processor, 2);
    expect(steps(again.logs, 'instance-unchanged')).toHaveLength(1);
    expect(steps(again.logs, 'data-stored')).toHaveLength(0);
});

test('a Pending scan holds the instance back, the event comes back without counting as an attempt, and it is stored once Clean', async () => {
    const created = await submission([
        { dataType: 'model', content: '<skjema/>' },
        { dataType: 'attachment', size: 5_000, seed: 'scan', fileScanResult: 'Pending' },
    ]);
    const pending = created.dataElements[1];
    const event = eventOf(created);
    await h.enqueue(event);

    const first = await h.deliver(queues.eventsInbound, processor);
    expect(first.error).toBeUndefined();
    const waiting = fieldsOf(steps(first.logs, 'scan-pending')[0].message);
    expect(waiting).toMatchObject({ instanceId: created.id, dataElementId: pending.id, recheckInSeconds: '1' });
    const since = waiting.pendingSince;
    // Nothing stored, nothing handed on, no byte downloaded; the copy is invisible for now.
    expect(await blobNames(h.container, `ttd/scan-app/${created.instanceGuid}`)).toEqual([]);
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
    expect(h.sim.counters().requests['storage.getData']).toBeUndefined();
    expect(await h.peek(queues.eventsInbound)).toEqual([]);

    // Still Pending at the recheck: queued again, with the time the wait began, not a new one.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const copies = await h.peek(queues.eventsInbound);
    expect(copies.map((text) => JSON.parse(text) as unknown)).toEqual([
        { ...event, [scanPendingSinceAttribute]: since },
    ]);
    const second = await h.deliver(queues.eventsInbound, processor);
    expect(second.error).toBeUndefined();
    expect(fieldsOf(steps(second.logs, 'scan-pending')[0].message)).toMatchObject({
        pendingSince: since,
        attempt: '1',
    });

    await h.sim.control.setFileScanResult(pending.id, 'Clean');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const third = await h.deliver(queues.eventsInbound, processor);
    expect(third.error).toBeUndefined();
    expect(steps(third.logs, 'instance-stored')).toHaveLength(1);
    expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
    const manifest = JSON.parse(
        await blobText(h.container, `ttd/scan-app/${created.instanceGuid}/manifest.json`),
    ) as Manifest;
    expect(manifest.elements[1]).toMatchObject({ id: pending.id, fileScanResult: 'Clean', quarantined: false });
    expect(await h.peek(queues.eventsInbound)).toEqual([]);
});

test('a scan still Pending after ScanWaitHours fails loudly, naming the instance and element, and is not queued again', async () => {
    const created = await submission([{ dataType: 'attachment', size: 100, seed: 'stuck', fileScanResult: 'Pending' }]);
    const stuck = created.dataElements[0];
    const since = new Date(Date.now() - 25 * 3_600_000).toISOString();
    await h.enqueue({ ...eventOf(created), [scanPendingSinceAttribute]: since });

    const run = await h.deliver(queues.eventsInbound, processor);
    expect(run.error).toBeInstanceOf(ScanWaitExceededError);
    expect((run.error as Error).message).toContain(stuck.id);
    const exceeded = steps(run.logs, 'scan-wait-exceeded');
    expect(exceeded.map((l) => l.level)).toEqual(['error']);
    expect(fieldsOf(exceeded[0].message)).toMatchObject({
        instanceId: created.id,
        dataElementId: stuck.id,
        pendingSince: since,
    });
    expect(steps(run.logs, 'failed')).toHaveLength(1);
    expect(await h.peek(queues.eventsInbound)).toEqual([]);
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
    expect(await blobNames(h.container, `ttd/scan-app/${created.instanceGuid}`)).toEqual([]);

    // Within ScanWaitHours (23 h), the same event waits again.
    await h.enqueue({
        ...eventOf(created),
        [scanPendingSinceAttribute]: new Date(Date.now() - 23 * 3_600_000).toISOString(),
    });
    expect((await h.deliver(queues.eventsInbound, processor)).error).toBeUndefined();
});

test('an aosscanpendingsince that is not a time, or lies in the future, starts the wait now', async () => {
    const created = await submission([{ dataType: 'attachment', size: 100, seed: 'odd', fileScanResult: 'Pending' }]);
    for (const odd of ['not a time', new Date(Date.now() + 48 * 3_600_000).toISOString()]) {
        const before = Date.now();
        await h.enqueue({ ...eventOf(created), [scanPendingSinceAttribute]: odd });
        const run = await h.deliver(queues.eventsInbound, processor);
        expect(run.error).toBeUndefined();
        const since = Date.parse(fieldsOf(steps(run.logs, 'scan-pending')[0].message).pendingSince);
        expect(since).toBeGreaterThanOrEqual(before);
        expect(since).toBeLessThanOrEqual(Date.now());
    }
});
