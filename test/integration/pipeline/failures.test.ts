import { randomUUID } from 'node:crypto';
import { createEventsConfirmation } from '../../../functions/eventsConfirmation';
import { createEventsProcessor } from '../../../functions/eventsProcessor';
import { generatedDigest } from '../../../dev/simulator/dataGenerator';
import { type CreatedInstance } from '../../../dev/simulator/types';
import { AltinnAccessError } from '../../../shared/altinn/apps';
import { AltinnHttpError } from '../../../shared/altinn/errors';
import { ForeignOriginError } from '../../../shared/altinn/origins';
import { DataElementGoneError, InstanceNotStoredError } from '../../../shared/instances';
import { readFailure } from '../../../shared/failures';
import { queues } from '../../../shared/names';
import { clientRegistration, createClientCredentials, clientKeySettings } from '../../support/simulator';
import {
    blobNames,
    blobSha256,
    eventFor,
    eventOf,
    fieldsOf,
    startForeignOrigin,
    startHarness,
    steps,
    type ForeignOrigin,
    type Harness,
} from './harness';

/* The failure policy of the instance pipeline, and every fault the simulator can inject. */

jest.setTimeout(60_000);

let h: Harness;
let foreign: ForeignOrigin;
let processor: ReturnType<typeof createEventsProcessor>;
let confirmation: ReturnType<typeof createEventsConfirmation>;

beforeAll(async () => {
    [h, foreign] = await Promise.all([startHarness({ HttpRetryBudgetSeconds: '2' }), startForeignOrigin()]);
    processor = createEventsProcessor(() => h.services);
    confirmation = createEventsConfirmation(() => h.services);
});

afterAll(async () => {
    await foreign?.stop();
    await h?.stop();
});

beforeEach(async () => {
    await h.sim.control.reset();
    await h.clearQueues();
    foreign.connections = 0;
});

function createSubmission(
    app = 'fail-app',
    extra: { instanceGuid?: string; partyId?: number } = {},
): Promise<CreatedInstance> {
    return h.sim.control.createInstance({
        app,
        process: 'completed',
        publish: true,
        ...extra,
        dataElements: [
            { dataType: 'model', contentType: 'application/xml', filename: 'form.xml', content: '<form/>' },
            { dataType: 'attachment', contentType: 'application/pdf', filename: 'a.pdf', size: 200_000, seed: 'att' },
        ],
    });
}

async function process(created: CreatedInstance) {
    await h.enqueue(eventOf(created));
    return h.deliver(queues.eventsInbound, processor);
}

async function expectNothingStoredOrQueued(created: CreatedInstance): Promise<void> {
    expect(await blobNames(h.container, `ttd/${created.app}/${created.instanceGuid}/instance.json`)).toEqual([]);
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
    expect(await h.peek(queues.eventsFeedback)).toEqual([]);
    expect(h.sim.counters().completes).toEqual({});
}

describe('failure policy', () => {
    test('an instance that is gone (404) is logged and dropped: nothing stored, nothing to confirm', async () => {
        const source = `${h.sim.appsUrl}/ttd/fail-app/instances/50001001/${randomUUID()}`;
        await h.enqueue(eventFor(source, 'app.instance.process.completed', 'gone-1'));
        const run = await h.deliver(queues.eventsInbound, processor);
        expect(run.error).toBeUndefined();
        const gone = steps(run.logs, 'instance-gone');
        expect(gone.map((log) => log.level)).toEqual(['warning']);
        expect(gone[0].message).toMatch(/^step=instance-gone eventId=gone-1 instanceId=50001001\/[0-9a-f-]{36} /);
        expect(h.sim.counters().requests['apps.getInstance']).toEqual({ '404': 1 });
        expect(await blobNames(h.container)).toEqual([]);
        expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
    });

    test('403 fails the invocation with a message naming the client id and scopes', async () => {
        const readOnly = createClientCredentials();
        const scopes = ['altinn:serviceowner/instances.write'];
        await h.sim.control.registerClient(clientRegistration(readOnly, scopes));
        const services = h.servicesWith({
            ...clientKeySettings(readOnly, scopes),
        });
        const created = await createSubmission();
        await h.enqueue(eventOf(created));
        const run = await h.deliver(
            queues.eventsInbound,
            createEventsProcessor(() => services),
        );
        expect(run.error).toBeInstanceOf(AltinnAccessError);
        const message = (run.error as Error).message;
        expect(message).toContain(readOnly.clientId);
        expect(message).toContain('"altinn:serviceowner/instances.write"');
        expect(message).toContain('HTTP 403');
        const failed = steps(run.logs, 'failed');
        expect(failed.map((log) => log.level)).toEqual(['error']);
        expect(failed[0].message).toContain(readOnly.clientId);
        await expectNothingStoredOrQueued(created);
    });

    test('401 (even after a fresh token) fails the invocation naming the client and scopes', async () => {
        await h.sim.control.addFault({ endpoint: 'apps.getInstance', status: 401 });
        const created = await createSubmission();
        const run = await process(created);
        expect(run.error).toBeInstanceOf(AltinnAccessError);
        expect((run.error as Error).message).toContain(h.creds.clientId);
        expect((run.error as Error).message).toContain(h.env.MaskinportenScopes);
        // One more try with a new token, then no more.
        expect(h.sim.counters().requests['apps.getInstance']).toEqual({ '401': 2 });
        await expectNothingStoredOrQueued(created);
    });

    test('persistent 503 is retried within the budget, then the invocation fails (the queue retries)', async () => {
        await h.sim.control.addFault({ endpoint: 'apps.getInstance', status: 503 });
        const created = await createSubmission();
        const started = Date.now();
        const run = await process(created);
        expect(run.error).toBeInstanceOf(AltinnHttpError);
        expect((run.error as AltinnHttpError).transient).toBe(true);
        expect((run.error as Error).message).toMatch(/retry budget of 2000 ms used up/);
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
        expect(h.sim.counters().requests['apps.getInstance']['503']).toBeGreaterThan(1);
        expect(steps(run.logs, 'altinn-http-retry').length).toBeGreaterThan(0);
        await expectNothingStoredOrQueued(created);
    });

    test('a data element that is gone (404) fails the message; nothing is confirmed', async () => {
        // The instance lists an element Storage no longer has (deleted after the instance was read).
        const instanceGuid = randomUUID();
        const partyId = 50009001;
        const created = await h.sim.control.createInstance({
            app: 'fail-app',
            process: 'completed',
            publish: true,
            instanceGuid,
            partyId,
            dataElements: [
                { dataType: 'model', content: '<form/>' },
                { dataType: 'deleted', content: 'x' },
            ],
        });
        const deletedId = created.dataElements[1].id;
        await h.sim.control.addFault({
            endpoint: 'storage.getData',
            pathContains: deletedId,
            status: 404,
            body: `Unable to find any data element with id: ${deletedId}.`,
        });
        const run = await process(created);
        expect(run.error).toBeInstanceOf(DataElementGoneError);
        expect((run.error as Error).message).toContain(deletedId);
        await expectNothingStoredOrQueued(created);
        // A message that reaches confirmation anyway (queued directly) is refused too.
        await h.enqueue(eventOf(created), queues.eventsConfirmation);
        const confirm = await h.deliver(queues.eventsConfirmation, confirmation);
        expect(confirm.error).toBeInstanceOf(InstanceNotStoredError);
        expect(h.sim.counters().requests['apps.complete']).toBeUndefined();
    });

    type MakeSource = (apps: string, id: string, foreignUrl: string) => string;
    const forged: [string, MakeSource, string][] = [
        [
            'a foreign origin',
            (_a, id, f) => `${f}/ttd/fail-app/instances/50001001/${id}`,
            'not on the configured apps base URL',
        ],
        [
            'user info hiding a foreign host',
            (a, id, f) => `${a}@${f.slice(7)}/ttd/a/instances/1/${id}`,
            'not on the configured',
        ],
        ['a query', (a, id) => `${a}/ttd/fail-app/instances/50001001/${id}?x=1`, 'query or fragment'],
        ['a fragment', (a, id) => `${a}/ttd/fail-app/instances/50001001/${id}#x`, 'query or fragment'],
        ['an extra segment', (a, id) => `${a}/ttd/fail-app/instances/50001001/${id}/data`, 'path is not'],
        ['a trailing slash', (a, id) => `${a}/ttd/fail-app/instances/50001001/${id}/`, 'path is not'],
        ['dot segments', (a, id) => `${a}/ttd/../instances/50001001/${id}`, 'not an app name'],
        ['an encoded slash', (a, id) => `${a}/ttd/a%2Fb/instances/50001001/${id}`, 'not an app name'],
        ['a partyId that is not digits', (a, id) => `${a}/ttd/fail-app/instances/p1/${id}`, 'partyId'],
        ['an instance id that is not a GUID', (a) => `${a}/ttd/fail-app/instances/50001001/not-a-guid`, 'not a GUID'],
        [
            'another port on the same host',
            (a, id) => `${a.replace(/:\d+$/, ':1')}/ttd/x/instances/1/${id}`,
            'not on the',
        ],
    ];
    test.each(forged)(
        'a source with %s is refused at error level into events-inbound-poison, and nothing is requested',
        async (_what, make, reason) => {
            const source = make(h.sim.appsUrl, randomUUID(), foreign.url);
            await h.enqueue(eventFor(source, 'app.instance.process.completed', 'forged-1'));
            const run = await h.deliver(queues.eventsInbound, processor);
            expect(run.error).toBeUndefined();
            expect(run.logs).toHaveLength(1);
            expect(run.logs[0].level).toBe('error');
            expect(fieldsOf(run.logs[0].message)).toMatchObject({ step: 'refused', eventId: 'forged-1' });
            expect(fieldsOf(run.logs[0].message).reason).toContain(reason);
            expect(foreign.connections).toBe(0);
            expect(h.sim.counters().requests).toEqual({});
            expect(h.sim.counters().grantsIssued).toBe(0);
            expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
            expect((await h.peek('events-inbound-poison')).at(-1)).toBe(run.text);
            expect((await readFailure(h.services.storage, queues.eventsInbound, 'forged-1'))?.error).toContain(reason);
        },
    );

    test('a data link on a foreign origin is refused before any data request; that origin gets no connection', async () => {
        const instanceGuid = randomUUID();
        const partyId = 50009002;
        const dataId = randomUUID();
        const created = await h.sim.control.createInstance({
            app: 'fail-app',
            process: 'completed',
            publish: true,
            instanceGuid,
            partyId,
            dataElements: [
                { dataType: 'model', content: '<form/>' },
                {
                    dataType: 'evil',
                    content: 'x',
                    selfLinks: {
                        platform: `${foreign.url}/storage/api/v1/instances/${partyId}/${instanceGuid}/data/${dataId}`,
                    },
                },
            ],
        });
        const run = await process(created);
        expect(run.error).toBeInstanceOf(ForeignOriginError);
        expect((run.error as Error).message).toContain(foreign.url);
        expect(foreign.connections).toBe(0);
        const requests = h.sim.counters().requests;
        expect(requests['storage.getData']).toBeUndefined();
        expect(requests['apps.getData']).toBeUndefined();
        // This instance's folder only: an earlier test's failed attempt may have stored its other, good element.
        expect(await blobNames(h.container, `ttd/fail-app/${instanceGuid}/`)).toEqual([]);
        await expectNothingStoredOrQueued(created);
    });

    test('a data link on the apps origin is used when Storage gives none', async () => {
        const instanceGuid = randomUUID();
        const partyId = 50009003;
        const created = await h.sim.control.createInstance({
            app: 'fail-app',
            process: 'completed',
            publish: true,
            instanceGuid,
            partyId,
            dataElements: [{ dataType: 'model', content: '<form/>', selfLinks: { platform: '' } }],
        });
        const run = await process(created);
        expect(run.error).toBeUndefined();
        expect(h.sim.counters().requests['apps.getData']).toEqual({ '200': 1 });
        expect(h.sim.counters().requests['storage.getData']).toBeUndefined();
    });

    test('a confirmation message for an instance that was never stored fails loudly and confirms nothing', async () => {
        const created = await createSubmission();
        await h.enqueue(eventOf(created), queues.eventsConfirmation);
        const run = await h.deliver(queues.eventsConfirmation, confirmation);
        expect(run.error).toBeInstanceOf(InstanceNotStoredError);
        expect((run.error as Error).message).toContain(`ttd/fail-app/${created.instanceGuid}/instance.json`);
        expect(steps(run.logs, 'failed')[0].level).toBe('error');
        expect(h.sim.counters().requests['apps.complete']).toBeUndefined();
        expect(h.sim.counters().completes).toEqual({});
    });
});

describe('injected faults', () => {
    async function expectStored(created: CreatedInstance): Promise<void> {
        const folder = `ttd/${created.app}/${created.instanceGuid}`;
        expect(await blobNames(h.container, folder)).toContain(`${folder}/instance.json`);
        expect(await blobSha256(h.container, `${folder}/data/${created.dataElements[1].id}`)).toBe(
            await generatedDigest('att', 200_000),
        );
        // Confirmed in the same invocation, nothing left for events-confirmation.
        expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
        expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
    }

    test('503 on the instance, twice, is retried to success', async () => {
        await h.sim.control.addFault({ endpoint: 'apps.getInstance', status: 503, times: 2 });
        const created = await createSubmission();
        const run = await process(created);
        expect(run.error).toBeUndefined();
        expect(h.sim.counters().requests['apps.getInstance']).toEqual({ '503': 2, '200': 1 });
        await expectStored(created);
    });

    test('429 with Retry-After on a data download waits as told and succeeds', async () => {
        const created = await createSubmission();
        await h.sim.control.addFault({
            endpoint: 'storage.getData',
            pathContains: created.dataElements[1].id,
            status: 429,
            retryAfterSeconds: 1,
            times: 1,
        });
        const started = Date.now();
        const run = await process(created);
        expect(run.error).toBeUndefined();
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
        await expectStored(created);
    });

    test('429 asking for longer than the budget fails the message at once', async () => {
        await h.sim.control.addFault({ endpoint: 'apps.getInstance', status: 429, retryAfterSeconds: 60 });
        const created = await createSubmission();
        const started = Date.now();
        const run = await process(created);
        expect(run.error).toBeInstanceOf(AltinnHttpError);
        expect((run.error as Error).message).toMatch(/Retry-After 60 s exceeds the retry budget/);
        expect(Date.now() - started).toBeLessThan(1_500);
        await expectNothingStoredOrQueued(created);
    });

    test('500 on a data download fails the message (nothing confirmed); the queue retry then succeeds', async () => {
        const created = await createSubmission();
        await h.sim.control.addFault({ endpoint: 'storage.getData', status: 500, times: 1 });
        await h.enqueue(eventOf(created));
        const first = await h.deliver(queues.eventsInbound, processor, 1);
        expect(first.error).toBeInstanceOf(AltinnHttpError);
        expect((first.error as AltinnHttpError).status).toBe(500);
        await expectNothingStoredOrQueued(created);
        await h.enqueue(eventOf(created));
        const second = await h.deliver(queues.eventsInbound, processor, 2);
        expect(second.error).toBeUndefined();
        expect(fieldsOf(steps(second.logs, 'instance-stored')[0].message).attempt).toBe('2');
        await expectStored(created);
    });

    test('latency on every call still succeeds', async () => {
        await h.sim.control.addFault({ endpoint: 'apps.getInstance', latencyMs: 300 });
        await h.sim.control.addFault({ endpoint: 'storage.getData', latencyMs: 300 });
        const created = await createSubmission();
        const run = await process(created);
        expect(run.error).toBeUndefined();
        await expectStored(created);
    });

    test('a connection reset before the answer is retried to success', async () => {
        await h.sim.control.addFault({ endpoint: 'apps.getInstance', reset: true, times: 1 });
        const created = await createSubmission();
        await h.sim.control.addFault({
            endpoint: 'storage.getData',
            pathContains: created.dataElements[1].id,
            reset: true,
            times: 1,
        });
        const run = await process(created);
        expect(run.error).toBeUndefined();
        expect(h.sim.counters().faultsApplied).toEqual({ 'apps.getInstance': 1, 'storage.getData': 1 });
        await expectStored(created);
    });

    test('a body cut off mid-way is fetched again in place, and the blob holds the whole element', async () => {
        const created = await createSubmission();
        const attachment = created.dataElements[1];
        await h.sim.control.addFault({
            endpoint: 'storage.getData',
            pathContains: attachment.id,
            truncateAfterBytes: 70_000,
            times: 1,
        });
        const run = await process(created);
        expect(run.error).toBeUndefined();
        expect(steps(run.logs, 'data-retry')).toHaveLength(1);
        expect(h.sim.counters().contentBytes[attachment.id]).toBe(270_000);
        await expectStored(created);
    });

    test('a body cut off every time fails the message and leaves no blob that looks complete', async () => {
        const created = await createSubmission();
        const attachment = created.dataElements[1];
        await h.sim.control.addFault({
            endpoint: 'storage.getData',
            pathContains: attachment.id,
            truncateAfterBytes: 70_000,
        });
        const run = await process(created);
        expect(run.error).toBeDefined();
        expect(h.sim.counters().faultsApplied['storage.getData']).toBe(3);
        const folder = `ttd/${created.app}/${created.instanceGuid}`;
        expect(await blobNames(h.container, `${folder}/data/${attachment.id}`)).toEqual([]);
        await expectNothingStoredOrQueued(created);
    });

    test('a reset and a 503 on complete are retried within the processor; complete is counted once', async () => {
        const created = await createSubmission();
        await h.sim.control.addFault({ endpoint: 'apps.complete', reset: true, times: 1 });
        await h.sim.control.addFault({ endpoint: 'apps.complete', status: 503, times: 1 });
        const run = await process(created);
        expect(run.error).toBeUndefined();
        expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
        expect(steps(run.logs, 'confirmed')).toHaveLength(1);
        expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
    });

    test('persistent 503 on complete hands the event to events-confirmation, whose retries download nothing again', async () => {
        const created = await createSubmission();
        const fault = await h.sim.control.addFault({ endpoint: 'apps.complete', status: 503 });
        const run = await process(created);
        // The processor's work is done (the instance is stored); only complete is left, to its own queue.
        expect(run.error).toBeUndefined();
        expect(steps(run.logs, 'confirm-deferred')[0].level).toBe('warning');
        expect(fieldsOf(steps(run.logs, 'confirm-deferred')[0].message).error).toMatch(/503/);
        expect(h.sim.counters().completes).toEqual({});
        const handedOn = await h.peek(queues.eventsConfirmation);
        expect(handedOn.map((text) => JSON.parse(text) as unknown)).toEqual([eventOf(created)]);
        const downloads = h.sim.counters().requests['storage.getData'];

        const failed = await h.deliver(queues.eventsConfirmation, confirmation);
        expect(failed.error).toBeInstanceOf(AltinnHttpError);
        expect(h.sim.counters().completes).toEqual({});

        await h.sim.control.removeFault(fault.id);
        await h.enqueue(handedOn[0], queues.eventsConfirmation);
        const confirmed = await h.deliver(queues.eventsConfirmation, confirmation);
        expect(confirmed.error).toBeUndefined();
        expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
        expect(h.sim.counters().requests['storage.getData']).toEqual(downloads);
        expect(h.sim.counters().requests['apps.getInstance']).toEqual({ '200': 1 });
    });
});
