import { randomUUID } from 'node:crypto';
import { createEventsConfirmation } from '../../../functions/eventsConfirmation';
import { createEventsProcessor } from '../../../functions/eventsProcessor';
import { ledgerOf } from '../../../shared/ledger';
import { queues } from '../../../shared/names';
import { listPoison } from '../../../shared/poison';
import { gatherStatus, renderStatusHtml, renderStatusText } from '../../../shared/status';
import { decodeQueueMessage } from '../../../shared/storage';
import { eventFor, eventOf, fieldsOf, startHarness, steps, type Harness } from './harness';

/*
 * Instances settled without a confirmation: one Altinn answers 404 for (gone) leaves the
 * not-confirmed count and gets its own row; an event for an app outside AcceptedApps is refused
 * into the poison queue with the reason, and the ledger records it.
 */

jest.setTimeout(60_000);

let h: Harness;

beforeAll(async () => {
    h = await startHarness();
});

afterAll(() => h?.stop());

beforeEach(async () => {
    await h.sim.control.reset();
    await h.clearQueues();
});

function status() {
    return gatherStatus({
        config: { catchUpApps: [], reconcileApps: [], brokerResources: [] },
        storage: h.services.storage,
    });
}

test('an instance Altinn answers 404 for is recorded as gone and leaves the not-confirmed list for its own row', async () => {
    const instanceGuid = randomUUID();
    const event = eventFor(`${h.sim.appsUrl}/ttd/gone-app/instances/50001001/${instanceGuid}`);
    await h.enqueue(event);
    const run = await h.deliver(
        queues.eventsInbound,
        createEventsProcessor(() => h.services),
        1,
    );
    expect(run.error).toBeUndefined();
    expect(steps(run.logs, 'instance-gone')).toHaveLength(1);

    const [entry] = await ledgerOf(h.services.storage).find(instanceGuid);
    expect(entry).toMatchObject({ id: `50001001/${instanceGuid}`, confirmed: false });
    expect(entry.firstSeenAt).toBeInstanceOf(Date);
    expect(entry.goneAt).toBeInstanceOf(Date);
    expect(await ledgerOf(h.services.storage).listUnconfirmed({ kind: 'instance' })).toEqual([]);

    const report = await status();
    expect(report.apps.find((app) => app.scope === 'ttd/gone-app')?.unconfirmed ?? 0).toBe(0);
    expect(report.settled).toEqual([
        {
            scope: 'ttd/gone-app',
            gone: 1,
            refused: 0,
            latestId: `50001001/${instanceGuid}`,
            latestAt: entry.goneAt!.toISOString(),
        },
    ]);
    expect(report.attention).toEqual([]);
    expect(renderStatusText(report).join('\n')).toContain(
        'ttd/gone-app: gone in Altinn (404) 1, refused (AcceptedApps) 0',
    );
    expect(renderStatusHtml(report)).toMatch(/<table id="settled">[\s\S]*ttd\/gone-app[\s\S]*<\/table>/);
});

test('an instance whose complete answers 404 is recorded as gone by EventsConfirmation', async () => {
    const created = await h.sim.control.createInstance({
        app: 'gone-late-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'model', content: '<a/>' }],
    });
    await h.sim.control.addFault({ endpoint: 'apps.complete', status: 404 });
    // Stored by the processor, whose own complete is answered 404 too.
    await h.enqueue(eventOf(created));
    await h.deliver(
        queues.eventsInbound,
        createEventsProcessor(() => h.services),
        1,
    );
    await h.enqueue(eventOf(created), queues.eventsConfirmation);
    const run = await h.deliver(
        queues.eventsConfirmation,
        createEventsConfirmation(() => h.services),
        1,
    );
    expect(run.error).toBeUndefined();
    expect(steps(run.logs, 'instance-gone')).toHaveLength(1);
    const [entry] = await ledgerOf(h.services.storage).find(created.instanceGuid);
    expect(entry.goneAt).toBeInstanceOf(Date);
    expect(entry.storedAt).toBeInstanceOf(Date);
    expect((await status()).apps.find((app) => app.scope === 'ttd/gone-late-app')?.unconfirmed).toBe(0);
});

test('with AcceptedApps set, an event for another app is refused into poison with the reason, recorded in the ledger, and nothing is fetched', async () => {
    const services = h.servicesWith({ AcceptedApps: 'ttd/wanted-app, ttd/also-wanted' });
    const processor = createEventsProcessor(() => services);
    const created = await h.sim.control.createInstance({
        app: 'unknown-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'model', content: '<a/>' }],
    });
    const event = eventOf(created);
    await h.enqueue(event);
    const run = await h.deliver(queues.eventsInbound, processor, 1);
    expect(run.error).toBeUndefined();
    const [refused] = steps(run.logs, 'refused');
    expect(refused.level).toBe('error');
    expect(fieldsOf(refused.message)).toMatchObject({
        eventId: event.id,
        instanceId: created.id,
        queue: 'events-inbound-poison',
        reason: 'app ttd/unknown-app is not in AcceptedApps (ttd/wanted-app, ttd/also-wanted)',
    });
    expect(h.sim.counters().requests).toEqual({});

    // In poison as received, never to expire, with the reason for the operator.
    const { peekedMessageItems } = await h.queue('events-inbound-poison').peekMessages({ numberOfMessages: 32 });
    expect(peekedMessageItems.map((item) => JSON.parse(decodeQueueMessage(item.messageText)) as unknown)).toEqual([
        event,
    ]);
    expect(peekedMessageItems[0].expiresOn.getUTCFullYear()).toBe(9999);
    const [listed] = await listPoison(h.services.storage, [queues.eventsInbound]);
    expect(listed).toMatchObject({
        eventId: event.id,
        refused: true,
        lastError: expect.stringContaining('AcceptedApps') as unknown,
    });

    const [entry] = await ledgerOf(h.services.storage).find(created.id);
    expect(entry.refusedAt).toBeInstanceOf(Date);
    expect(entry.refusedReason).toContain('not in AcceptedApps');
    const report = await status();
    expect(report.settled.find((row) => row.scope === 'ttd/unknown-app')).toMatchObject({
        gone: 0,
        refused: 1,
        latestId: created.id,
    });
    expect(report.apps.find((app) => app.scope === 'ttd/unknown-app')?.unconfirmed ?? 0).toBe(0);

    // An app it names is processed as before.
    const wanted = await h.sim.control.createInstance({
        app: 'wanted-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'model', content: '<a/>' }],
    });
    await h.enqueue(eventOf(wanted));
    expect((await h.deliver(queues.eventsInbound, processor, 1)).error).toBeUndefined();
    expect(h.sim.counters().completes).toEqual({ [wanted.id]: 1 });
});
