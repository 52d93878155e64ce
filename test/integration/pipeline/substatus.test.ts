import { createEventsSubstatus } from '../../../functions/eventsSubstatus';
import { maxDequeueCount, recordingFailures } from '../../../shared/failures';
import { ledgerOf } from '../../../shared/ledger';
import { queues } from '../../../shared/names';
import { eventFor, eventOf, startHarness, steps, type Harness } from './harness';

/*
 * The substatus against Altinn as app-lib answers it (InstancesController.UpdateSubstatus): a missing
 * instance is a 500, not a 404. One GET tells it from a failure: a gone instance is recorded in the
 * ledger and not retried; a real failure is retried (the HTTP budget, then the queue's attempts) and
 * then recorded as poisoned.
 */

jest.setTimeout(60_000);

let h: Harness;

beforeAll(async () => {
    h = await startHarness({ SubstatusLabel: 'Mottatt', HttpRetryBudgetSeconds: '1' });
    await h.queue(queues.eventsSubstatus).createIfNotExists();
});

afterAll(() => h?.stop());

beforeEach(async () => {
    await h.sim.control.reset();
    await h.clearQueues();
    await h.queue(queues.eventsSubstatus).clearMessages();
});

const substatus = () =>
    recordingFailures(
        queues.eventsSubstatus,
        () => h.services.storage,
        createEventsSubstatus(() => h.services),
    );

it('an instance Altinn no longer has: its 500 is recognised by one GET, recorded in the ledger, and not retried', async () => {
    const created = await h.sim.control.createInstance({
        app: 'substatus-app',
        process: 'completed',
        publish: true,
        deliver: false,
    });
    const gone = eventFor(created.url.replace(created.instanceGuid, '00000000-0000-4000-8000-0000000000aa'));
    await h.enqueue(gone, queues.eventsSubstatus);
    const run = await h.deliver(queues.eventsSubstatus, substatus(), 1);
    expect(run.error).toBeUndefined();
    expect(steps(run.logs, 'instance-gone')).toHaveLength(1);
    const requests = h.sim.counters().requests;
    expect(requests['apps.substatus']).toEqual({ '500': 1 });
    expect(requests['apps.getInstance']).toEqual({ '404': 1 });
    const [entry] = await ledgerOf(h.services.storage).find('00000000-0000-4000-8000-0000000000aa');
    expect(entry.goneAt).toBeInstanceOf(Date);
    expect(entry.poisonedAt).toBeUndefined();
    expect(await h.peek(queues.eventsSubstatus)).toEqual([]);
});

it('an instance that is there while the substatus keeps failing: retried, then recorded as poisoned on the last attempt', async () => {
    const created = await h.sim.control.createInstance({
        app: 'substatus-app',
        process: 'completed',
        publish: true,
        deliver: false,
    });
    const event = eventOf(created);
    await h.sim.control.addFault({ endpoint: 'apps.substatus', status: 500 });
    await h.enqueue(event, queues.eventsSubstatus);
    const first = await h.deliver(queues.eventsSubstatus, substatus(), 1);
    expect(first.error).toBeInstanceOf(Error);
    // The 500, then one GET that finds the instance there: the 500 is a failure, left to the queue to retry.
    expect(h.sim.counters().requests['apps.getInstance']).toEqual({ '200': 1 });
    expect(h.sim.counters().requests['apps.substatus']).toEqual({ '500': 1 });
    let [entry] = await ledgerOf(h.services.storage).find(created.id);
    expect(entry).toMatchObject({ lastFailureStep: 'substatus' });
    expect(entry.poisonedAt).toBeUndefined();

    await h.enqueue(event, queues.eventsSubstatus);
    const last = await h.deliver(queues.eventsSubstatus, substatus(), maxDequeueCount());
    expect(last.error).toBeInstanceOf(Error);
    [entry] = await ledgerOf(h.services.storage).find(created.id);
    expect(entry.poisonedAt).toBeInstanceOf(Date);
    expect(entry.lastFailureError).toMatch(/substatus failed.*HTTP 500/);
});
