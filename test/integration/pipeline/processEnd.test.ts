import { createEventsProcessor } from '../../../functions/eventsProcessor';
import { type CreatedInstance } from '../../../dev/simulator/types';
import { notEndedSinceAttribute, parseInstanceSource } from '../../../shared/instances';
import { instanceSubject, ledgerOf } from '../../../shared/ledger';
import { queues } from '../../../shared/names';
import { blobNames, eventFor, fieldsOf, startHarness, steps, type Harness } from './harness';

/*
 * Confirm only what Altinn finished: an app.instance.process.completed event for an instance whose
 * process still stands in a task (a forged event, a type filter set too wide) is neither stored nor
 * confirmed; it comes back with growing pauses, not counted as an attempt, until
 * ProcessEndWaitMinutes (60 here) have passed, and is then recorded and left for catch-up and
 * reconciliation.
 */

jest.setTimeout(60_000);

const completed = 'app.instance.process.completed';
let h: Harness;
let processor: ReturnType<typeof createEventsProcessor>;

beforeAll(async () => {
    h = await startHarness({ ProcessEndWaitMinutes: '60' });
    processor = createEventsProcessor(() => h.services);
});

afterAll(() => h?.stop());

beforeEach(async () => {
    await h.sim.control.reset();
    await h.clearQueues();
});

function inTask1(): Promise<CreatedInstance> {
    return h.sim.control.createInstance({
        app: 'end-app',
        process: 'Task_1',
        tasks: ['Task_1', 'Task_2'],
        dataElements: [{ dataType: 'model', contentType: 'application/xml', content: '<skjema/>' }],
    });
}

/** Messages on events-inbound, the invisible ones included. */
async function waiting(): Promise<number> {
    return (await h.queue(queues.eventsInbound).getProperties()).approximateMessagesCount ?? 0;
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

test('a completed event for an instance in Task_1: nothing stored, no complete, back on the queue without counting as an attempt', async () => {
    const created = await inTask1();
    await h.enqueue(eventFor(created.url, completed, 'forged-1'));
    const run = await h.deliver(queues.eventsInbound, processor, 1);

    expect(run.error).toBeUndefined();
    // The first Altinn call of the process loads the signing key, which logs its own line (step=signing-key).
    const logs = run.logs.filter((log) => !log.message.startsWith('step=signing-key '));
    expect(logs.map((log) => log.message.split(' ')[0])).toEqual(['step=process-end-wait']);
    expect(fieldsOf(logs[0].message)).toMatchObject({
        instanceId: created.id,
        task: 'Task_1',
        recheckInSeconds: '60',
    });
    expect(h.sim.counters().completes).toEqual({});
    expect(h.sim.counters().requests['storage.getData']).toBeUndefined();
    expect(await blobNames(h.container, `ttd/end-app/${created.instanceGuid}`)).toEqual([]);
    // The copy waits invisible on events-inbound, carrying when the wait began.
    expect(await h.peek(queues.eventsInbound)).toEqual([]);
    expect(await waiting()).toBe(1);
    expect(h.sim.counters().requests['apps.complete']).toBeUndefined();
});

test('the pauses grow with the wait, and once ProcessEndWaitMinutes have passed it is recorded at error and left', async () => {
    const created = await inTask1();
    await h.enqueue({ ...eventFor(created.url, completed, 'forged-2'), [notEndedSinceAttribute]: minutesAgo(20) });
    const later = await h.deliver(queues.eventsInbound, processor, 1);
    expect(Number(fieldsOf(steps(later.logs, 'process-end-wait')[0].message).recheckInSeconds)).toBeGreaterThanOrEqual(
        1199,
    );
    await h.clearQueues();

    await h.enqueue({ ...eventFor(created.url, completed, 'forged-2'), [notEndedSinceAttribute]: minutesAgo(61) });
    const over = await h.deliver(queues.eventsInbound, processor, 1);
    expect(over.error).toBeUndefined();
    const recorded = steps(over.logs, 'process-not-ended');
    expect(recorded.map((log) => log.level)).toEqual(['error']);
    expect(fieldsOf(recorded[0].message)).toMatchObject({
        instanceId: created.id,
        eventType: completed,
        task: 'Task_1',
        after: 'wait',
    });
    expect(await waiting()).toBe(0);
    expect(h.sim.counters().completes).toEqual({});
    const subject = instanceSubject(parseInstanceSource(created.url, h.sim.appsUrl));
    const entry = await ledgerOf(h.services.storage).get(subject);
    expect(entry).toMatchObject({ confirmed: false, notEndedTask: 'Task_1', notEndedEventId: 'forged-2' });
    expect((await ledgerOf(h.services.storage).listNotEnded(new Date(Date.now() - 60_000))).map((e) => e.id)).toEqual([
        created.id,
    ]);
});

test('once the process has ended, its event is stored and confirmed once, and the record no longer lists it', async () => {
    const created = await inTask1();
    await h.enqueue({ ...eventFor(created.url, completed, 'early-1'), [notEndedSinceAttribute]: minutesAgo(61) });
    await h.deliver(queues.eventsInbound, processor, 1);
    const ledger = ledgerOf(h.services.storage);
    const listed = async () => (await ledger.listNotEnded(new Date(Date.now() - 60_000))).map((entry) => entry.id);
    expect(await listed()).toContain(created.id);

    // The process ends; Altinn's own completed event (or the catch-up's copy, or reconciliation) comes.
    await h.sim.control.moveProcess(created.id, { to: 'completed', publish: false });
    await h.enqueue(eventFor(created.url, completed, 'real-1'));
    const run = await h.deliver(queues.eventsInbound, processor, 1);
    expect(run.error).toBeUndefined();
    expect(steps(run.logs, 'instance-stored')).toHaveLength(1);
    expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
    expect(await listed()).not.toContain(created.id);
});

test('another processed event type stores the instance as it stands in its task and confirms nothing', async () => {
    const services = h.servicesWith({ ProcessedEventTypes: `${completed} app.instance.created` });
    const created = await inTask1();
    await h.enqueue(eventFor(created.url, 'app.instance.created', 'created-1'));
    const run = await h.deliver(
        queues.eventsInbound,
        createEventsProcessor(() => services),
        1,
    );
    expect(run.error).toBeUndefined();
    expect(steps(run.logs, 'instance-stored')).toHaveLength(1);
    expect(fieldsOf(steps(run.logs, 'confirm-skipped')[0].message).reason).toMatch(/not ended \(Task_1\)/);
    expect(h.sim.counters().completes).toEqual({});
    expect((await h.peek(queues.instancesReceived)).filter((text) => text.includes(created.id))).toEqual([]);
});
