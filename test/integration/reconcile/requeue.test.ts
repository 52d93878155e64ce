import { createEventsProcessor } from '../../../functions/eventsProcessor';
import { createStorageApi } from '../../../shared/altinn/storage';
import { ledgerOf, recordGone, recordRefused } from '../../../shared/ledger';
import { queues } from '../../../shared/names';
import { inFlightMs, poisonedRequeueMs, runReconcile, type ReconcileDeps } from '../../../shared/reconcile';
import { invocationContext } from '../../support/functions';
import { startHarness, steps, type Harness } from '../pipeline/harness';

/*
 * What reconciliation sees and what it queues again (issue 17): every page, oldest first, ties at a
 * page boundary included; instances waiting in the feedback task; and only what the ledger does not
 * show on its way (queued recently, waiting for a malware scan, poisoned within the day).
 */

jest.setTimeout(60_000);

const app = 'requeue-app';
let h: Harness;

beforeAll(async () => {
    h = await startHarness({
        ReconcileApps: `ttd/${app}`,
        FeedbackEventType: 'app.instance.process.movedTo.Feedback',
        FeedbackDataType: 'feedback',
    });
});

afterAll(() => h?.stop());

beforeEach(async () => {
    await h.sim.control.reset();
    await h.clearQueues();
    await ledgerOf(h.services.storage).ensureTable();
    const table = ledgerOf(h.services.storage).table;
    for await (const row of table.listEntities()) await table.deleteEntity(row.partitionKey!, row.rowKey!);
});

function deps(now = new Date()): ReconcileDeps {
    return {
        config: h.services.config,
        storage: h.services.storage,
        altinnStorage: createStorageApi(h.services.altinn.http, h.services.config),
        now: () => now,
    };
}

async function reconcile(now = new Date(), options: Parameters<typeof runReconcile>[2] = { pageSize: 2 }) {
    const { context, logs } = invocationContext('InstancesReconcile');
    const [result] = await runReconcile(deps(now), context, options);
    return { result, logs };
}

/** Messages in events-inbound, the invisible ones (a scan wait's next check) included. */
async function queueLength(): Promise<number> {
    return (await h.queue(queues.eventsInbound).getProperties()).approximateMessagesCount ?? 0;
}

async function queuedIds(): Promise<string[]> {
    return (await h.peek(queues.eventsInbound)).map((text) => (JSON.parse(text) as { id: string }).id).sort();
}

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, second)).toISOString();

it('asks Storage oldest first, without data elements', () => {
    const url = new URL(deps().altinnStorage.unconfirmedInstancesUrl('ttd', app));
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
        'process.isComplete': 'true',
        excludeConfirmedBy: 'ttd',
        includeDataElements: 'false',
        order: 'asc:lastChanged',
    });
});

it('loses nothing to ties at a page boundary, and across runs queues each instance once until it is due again', async () => {
    // Seven instances, five of them changed at the same moment: with pages of 2 the tie spans three pages.
    const created = [await h.sim.control.createInstance({ app, process: 'completed', at: at(1) })];
    for (let i = 0; i < 5; i++)
        created.push(await h.sim.control.createInstance({ app, process: 'completed', at: at(2) }));
    created.push(await h.sim.control.createInstance({ app, process: 'completed', at: at(3) }));
    const expected = created.map((c) => `reconcile-${c.instanceGuid}`).sort();

    const first = await reconcile();
    expect(first.result).toMatchObject({ found: 7, queued: 7, truncated: false });
    expect(await queuedIds()).toEqual(expected);

    // An hour later they are still in the queue: nothing is queued twice.
    const second = await reconcile(new Date(Date.now() + 3_600_000));
    expect(second.result).toMatchObject({ found: 7, queued: 0, skipped: { 'in-flight': 7 } });
    expect(steps(second.logs, 'reconcile-run')[0].message).toMatch(
        / found=7 queued=0 .* inFlight=7 scanPending=0 poisoned=0 settled=0$/,
    );
    expect(await queuedIds()).toEqual(expected);

    // Lost on the way (the queue emptied, none confirmed): the next run after inFlight queues all again.
    await h.clearQueues();
    const third = await reconcile(new Date(Date.now() + inFlightMs + 60_000));
    expect(third.result).toMatchObject({ found: 7, queued: 7 });
    expect(await queuedIds()).toEqual(expected);
});

it('finds an instance waiting in the feedback task, which process.isComplete never lists, and queues its task event', async () => {
    const waiting = await h.sim.control.createInstance({ app, process: 'Feedback', tasks: ['Task_1', 'Feedback'] });
    await h.sim.control.createInstance({ app, process: 'Task_1' });
    const { result } = await reconcile();
    expect(result).toMatchObject({ found: 1, queued: 1 });
    const [event] = (await h.peek(queues.eventsInbound)).map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(event).toMatchObject({
        id: `reconcile-${waiting.instanceGuid}-feedback`,
        type: 'app.instance.process.movedTo.Feedback',
        source: waiting.url,
        aosvia: 'reconciliation',
    });
});

it('queues a poisoned instance at most once a day', async () => {
    const created = await h.sim.control.createInstance({ app, process: 'completed' });
    const ledger = ledgerOf(h.services.storage);
    const subject = {
        kind: 'instance' as const,
        org: 'ttd',
        app,
        partyId: String(created.partyId),
        instanceGuid: created.instanceGuid,
    };
    const poisonedAt = new Date();
    await ledger.insertFirstSeen(
        subject,
        { firstSeenAt: poisonedAt, firstSeenVia: 'webhook' },
        { poisonedAt, lastFailureAt: poisonedAt },
    );

    expect((await reconcile(new Date(Date.now() + inFlightMs + 60_000))).result).toMatchObject({
        queued: 0,
        skipped: { poisoned: 1 },
    });
    const dayLater = new Date(poisonedAt.getTime() + poisonedRequeueMs + 60_000);
    expect((await reconcile(dayLater)).result).toMatchObject({ queued: 1 });
    expect((await ledger.find(created.id))[0].reconcileQueuedAt).toEqual(dayLater);
    // Queued again and poisoned again: the day counts from the reconciliation that queued it.
    expect((await reconcile(new Date(dayLater.getTime() + inFlightMs + 60_000))).result).toMatchObject({
        queued: 0,
        skipped: { poisoned: 1 },
    });
});

it('never queues again an instance the ledger has settled: gone in Altinn, or refused (outside AcceptedApps)', async () => {
    const gone = await h.sim.control.createInstance({ app, process: 'completed' });
    const refused = await h.sim.control.createInstance({ app, process: 'completed' });
    const ledger = ledgerOf(h.services.storage);
    const subject = (c: typeof gone) => ({
        kind: 'instance' as const,
        org: 'ttd',
        app,
        partyId: String(c.partyId),
        instanceGuid: c.instanceGuid,
    });
    const { context } = invocationContext('EventsProcessor');
    await recordGone(ledger, context, subject(gone));
    await recordRefused(ledger, context, subject(refused), 'ttd/requeue-app is not in AcceptedApps');
    const { result, logs } = await reconcile(new Date(Date.now() + 7 * 24 * 3_600_000));
    expect(result).toMatchObject({ found: 2, queued: 0, skipped: { settled: 2 } });
    expect(steps(logs, 'reconcile-run')[0].message).toMatch(/ settled=2$/);
    expect(await h.peek(queues.eventsInbound)).toEqual([]);
});

it('starts no second wait for an instance whose malware scan is Pending', async () => {
    const created = await h.sim.control.createInstance({
        app,
        process: 'completed',
        publish: true,
        deliver: false,
        dataElements: [{ dataType: 'attachment', size: 100, seed: 'scan', fileScanResult: 'Pending' }],
    });
    await h.enqueue(created.events[0]);
    const waiting = await h.deliver(
        queues.eventsInbound,
        createEventsProcessor(() => h.services),
    );
    expect(steps(waiting.logs, 'scan-pending')).toHaveLength(1);
    expect(await queueLength()).toBe(1);
    const [entry] = await ledgerOf(h.services.storage).find(created.id);
    expect(entry.scanPendingSince).toBeInstanceOf(Date);

    // Hours later, while the one wait goes on (ScanWaitHours is 24): nothing more is queued.
    for (const hours of [1, 5, 20]) {
        const { result } = await reconcile(new Date(Date.now() + hours * 3_600_000));
        expect(result).toMatchObject({ found: 1, queued: 0, skipped: { 'scan-pending': 1 } });
    }
    expect(await queueLength()).toBe(1);
});

it('says when a run stops before the last page (reconcile-truncated), and still queues what it read', async () => {
    for (let i = 0; i < 5; i++) await h.sim.control.createInstance({ app, process: 'completed', at: at(i) });
    const { result, logs } = await reconcile(new Date(), { pageSize: 2, maxPages: 2 });
    expect(result).toMatchObject({ found: 4, queued: 4, truncated: true });
    const [line] = steps(logs, 'reconcile-truncated');
    expect(line.level).toBe('warning');
    expect(line.message).toMatch(/^step=reconcile-truncated app=ttd\/requeue-app query=complete pages=2 found=4 /);
});
