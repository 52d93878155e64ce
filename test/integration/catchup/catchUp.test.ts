import { eventsCatchUp } from '../../../functions/eventsCatchUp';
import { createAltinnStack, type AltinnStack } from '../../../shared/altinn';
import { createEventsApi, type EventsApi } from '../../../shared/altinn/events';
import {
    CursorConflictError,
    CursorStore,
    catchUpApp,
    cursorBlobName,
    runCatchUp,
    defaultCatchUpWindowMs,
    type CatchUpDeps,
    type Cursor,
} from '../../../shared/catchUp';
import { loadConfig } from '../../../shared/config';
import { containers, queues } from '../../../shared/names';
import { createStorage } from '../../../shared/storage';
import type { CloudEvent } from '../../../dev/simulator/types';
import { invocationContext } from '../../support/functions';
import { startReceiver, waitUntil, type Receiver } from '../../support/simulator';
import { applyEnv, calls, drainQueue, getBlob, startStack, timer, type Stack } from '../subscriptions/stack';

/*
 * EventsCatchUp against Azurite and the Altinn simulator: what the webhook missed reaches
 * events-inbound, the cursor survives restarts and concurrent runs, the API's errors are named.
 */

jest.setTimeout(60_000);

const completed = 'app.instance.process.completed';
const testStart = new Date(Date.now() - 60_000);
let stack: Stack;
let receiver: Receiver;
const stacks: AltinnStack[] = [];

beforeAll(async () => {
    stack = await startStack({ CatchUpApps: 'ttd/apps-test', CatchUpFrom: testStart.toISOString() });
    applyEnv(stack.env);
    receiver = await startReceiver();
});

afterAll(async () => {
    await Promise.all(stacks.map((s) => s.close()));
    await receiver?.stop();
    await stack?.stop();
});

beforeEach(async () => {
    await stack.sim.control.reset();
    await stack.container(containers.state).deleteIfExists();
    await drainQueue(stack.env.AzureWebJobsStorage, queues.eventsInbound);
    receiver.received.length = 0;
    receiver.defaultStatus = 200;
});

/** Fresh dependencies, as a new worker process would build them (nothing shared but storage and Altinn). */
function freshDeps(env: Record<string, string> = {}, wrap?: (api: EventsApi) => EventsApi): CatchUpDeps {
    const settings = { ...stack.env, ...env };
    const config = loadConfig(settings);
    const altinn = createAltinnStack(config);
    stacks.push(altinn);
    const events = createEventsApi(altinn.http, config);
    return { config, storage: createStorage(settings), events: wrap ? wrap(events) : events };
}

async function runHandler() {
    const { context, logs } = invocationContext('EventsCatchUp');
    let error: unknown;
    await eventsCatchUp(timer(), context).catch((e: unknown) => (error = e));
    return { logs, error };
}

async function queuedEvents(): Promise<CloudEvent[]> {
    return (await drainQueue(stack.env.AzureWebJobsStorage, queues.eventsInbound)).map(
        (text) => JSON.parse(text) as CloudEvent,
    );
}

async function completeInstances(count: number, app = 'apps-test', deliver = true): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
        const created = await stack.sim.control.createInstance({
            app,
            process: 'completed',
            publish: [completed],
            deliver,
        });
        ids.push(created.events[0].id);
    }
    return ids;
}

async function cursor(app = 'apps-test'): Promise<Cursor | undefined> {
    const text = await getBlob(stack.container(containers.state), cursorBlobName('ttd', app));
    return text === undefined ? undefined : (JSON.parse(text) as Cursor);
}

async function validatedSubscription(): Promise<void> {
    const token = await stack.sim.control.issueAltinnToken({ scopes: ['altinn:serviceowner/instances.read'] });
    const response = await fetch(`${stack.sim.platformUrl}/events/api/v1/subscriptions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
            endPoint: `${receiver.url}/api/eventsreceiver`,
            sourceFilter: `${stack.sim.appsUrl}/ttd/apps-test`,
        }),
    });
    expect(response.status).toBe(201);
    await waitUntil(async () => ((await stack.sim.control.listSubscriptions())[0]?.validated ? true : undefined));
}

it('with the webhook unreachable while 100 instances complete, the catch-up queues every one of them', async () => {
    await validatedSubscription();
    receiver.defaultStatus = 503; // the function app is down: every push fails and waits for Altinn's next retry
    const ids = await completeInstances(100);
    // Events of types the pipeline does not process are not fetched.
    await stack.sim.control.createInstance({ app: 'apps-test', process: 'Task_2', publish: ['app.instance.created'] });
    await receiver.waitFor(100);

    const { logs, error } = await runHandler();
    expect(error).toBeUndefined();
    const queued = await queuedEvents();
    expect(queued.map((event) => event.id).sort()).toEqual([...ids].sort());
    // Each message is the event exactly as the query API returned it (every attribute kept), marked as the catch-up's.
    const stored = new Map((await stack.sim.control.listEvents()).map((event) => [event.id, event]));
    for (const event of queued) expect(event).toEqual({ ...stored.get(event.id), aosvia: 'catchup' });
    expect(queued[0]).toMatchObject({ resource: 'urn:altinn:resource:app_ttd_apps-test', type: completed });

    const line = logs.find((log) => log.message.startsWith('step=catch-up '));
    expect(line?.message).toMatch(/org=ttd app=apps-test pages=2 queued=100 skipped=0 after=\S+ stopped=caught-up/);
    expect((await cursor())?.after).toBe(ids[99]);
    // A second run finds nothing new: the cursor holds.
    await runHandler();
    expect(await queuedEvents()).toEqual([]);
});

it('the cursor survives a restart: a new process continues after the last queued event', async () => {
    const first = await completeInstances(12, 'apps-test', false);
    const before = await catchUpApp(freshDeps(), { org: 'ttd', app: 'apps-test' }, invocationContext('a').context, {
        pageSize: 5,
    });
    expect(before).toMatchObject({ pages: 4, queued: 12, stopped: 'caught-up', after: first[11] });
    expect((await queuedEvents()).map((e) => e.id)).toEqual(first);

    const later = await completeInstances(7, 'apps-test', false);
    const after = await catchUpApp(freshDeps(), { org: 'ttd', app: 'apps-test' }, invocationContext('b').context, {
        pageSize: 5,
    });
    expect(after).toMatchObject({ queued: 7, after: later[6] });
    expect((await queuedEvents()).map((e) => e.id)).toEqual(later);
    const saved = await cursor();
    expect(saved).toEqual({ after: later[6], types: [completed], updated: expect.any(String) as string });
});

it('two concurrent runs on one cursor: one stops on the conflict, the cursor never goes back, no page is skipped', async () => {
    const ids = await completeInstances(40, 'apps-test', false);
    // Both runs read the cursor and fetch the same first page before either writes.
    let waiting = 0;
    let release: () => void = () => undefined;
    const together = new Promise<void>((resolve) => (release = resolve));
    const barrier = (api: EventsApi): EventsApi => {
        let first = true;
        return {
            ...api,
            async queryAppEvents(url, logger) {
                const page = await api.queryAppEvents(url, logger);
                if (first) {
                    first = false;
                    if (++waiting === 2) release();
                    await together;
                }
                return page;
            },
        };
    };
    const app = { org: 'ttd', app: 'apps-test' };
    // A cursor exists (as after any earlier run), so both start from the same ETag.
    await catchUpApp(freshDeps(), app, invocationContext('setup').context, { pageSize: 10, maxPages: 0 });
    const [a, b] = await Promise.all([
        catchUpApp(freshDeps({}, barrier), app, invocationContext('a').context, { pageSize: 10 }),
        catchUpApp(freshDeps({}, barrier), app, invocationContext('b').context, { pageSize: 10 }),
    ]);
    expect([a.stopped, b.stopped].sort()).toEqual(['caught-up', 'conflict']);
    const winner = a.stopped === 'caught-up' ? a : b;
    const loser = a.stopped === 'caught-up' ? b : a;
    expect(winner).toMatchObject({ queued: 40, after: ids[39] });
    // The loser queued its first page (a duplicate, which the pipeline absorbs) and stopped without moving the cursor.
    expect(loser.queued).toBe(10);
    const queued = (await queuedEvents()).map((e) => e.id);
    expect(new Set(queued)).toEqual(new Set(ids));
    expect(queued).toHaveLength(50);
    expect((await cursor())?.after).toBe(ids[39]);

    // A writer holding an old ETag cannot move the cursor back.
    const store = new CursorStore(stack.container(containers.state));
    const { etag } = await store.read('ttd', 'apps-test');
    await catchUpApp(freshDeps(), app, invocationContext('c').context);
    await completeInstances(1, 'apps-test', false);
    await catchUpApp(freshDeps(), app, invocationContext('d').context);
    await expect(
        store.write('ttd', 'apps-test', { after: ids[0], updated: new Date().toISOString() }, etag),
    ).rejects.toBeInstanceOf(CursorConflictError);
    expect((await cursor())?.after).not.toBe(ids[0]);
    // Nor can a second "first run" overwrite an existing cursor.
    await expect(
        store.write('ttd', 'apps-test', { from: testStart.toISOString(), updated: '' }, undefined),
    ).rejects.toBeInstanceOf(CursorConflictError);
});

it('a run that fails midway resumes after the last page it queued: nothing lost, nothing queued twice', async () => {
    const ids = await completeInstances(30, 'apps-test', false);
    const failOnThird = (api: EventsApi): EventsApi => {
        let count = 0;
        return {
            ...api,
            queryAppEvents: (url, logger) => {
                if (++count === 3) return Promise.reject(new Error('worker died'));
                return api.queryAppEvents(url, logger);
            },
        };
    };
    const app = { org: 'ttd', app: 'apps-test' };
    const { context, logs } = invocationContext('a');
    const broken = await catchUpApp(freshDeps({}, failOnThird), app, context, { pageSize: 10 });
    expect(broken).toMatchObject({ stopped: 'error', queued: 20, after: ids[19] });
    expect(logs.find((log) => log.level === 'error')?.message).toMatch(/step=catch-up .*stopped=error .*worker died/);
    const resumed = await catchUpApp(freshDeps(), app, invocationContext('b').context, { pageSize: 10 });
    expect(resumed).toMatchObject({ stopped: 'caught-up', queued: 10, after: ids[29] });
    expect((await queuedEvents()).map((e) => e.id)).toEqual(ids);
});

it('the first run starts at CatchUpFrom, or a day back when it is unset, and fixes that start in the cursor', async () => {
    const app = { org: 'ttd', app: 'apps-test' };
    const future = new Date(Date.now() + 3_600_000);
    await completeInstances(3, 'apps-test', false);
    const late = await catchUpApp(
        freshDeps({ CatchUpFrom: future.toISOString() }),
        app,
        invocationContext('a').context,
    );
    expect(late).toMatchObject({ queued: 0, stopped: 'caught-up', from: future.toISOString() });
    expect(await cursor()).toMatchObject({ from: future.toISOString() });

    await stack.container(containers.state).deleteIfExists();
    const started = Date.now();
    const unset = await catchUpApp(freshDeps({ CatchUpFrom: '' }), app, invocationContext('b').context, {
        maxPages: 0,
    });
    const from = Date.parse(unset.from!);
    expect(from).toBeGreaterThanOrEqual(started - defaultCatchUpWindowMs - 1000);
    expect(from).toBeLessThanOrEqual(Date.now() - defaultCatchUpWindowMs + 1000);
    const caught = await catchUpApp(freshDeps({ CatchUpFrom: '' }), app, invocationContext('c').context);
    expect(caught.queued).toBe(3);
    expect(await queuedEvents()).toHaveLength(3);
});

it("the API's 400 is logged with its detail and the setting involved, and fails the invocation", async () => {
    await completeInstances(2, 'apps-test', false);
    await stack.sim.control.addFault({
        endpoint: 'events.query',
        status: 400,
        contentType: 'application/problem+json',
        body: {
            type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
            title: 'Bad Request',
            status: 400,
            detail: "The 'From' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC",
        },
        times: 1,
    });
    const { logs, error } = await runHandler();
    expect((error as Error).message).toMatch(/Catch-up failed for ttd\/apps-test/);
    const line = logs.find((log) => log.level === 'error' && log.message.startsWith('step=catch-up '));
    expect(line?.message).toContain('status=400');
    expect(line?.message).toContain('setting=CatchUpFrom');
    expect(line?.message).toContain("detail=\"The 'From' parameter must specify timezone.");
    expect(await queuedEvents()).toEqual([]);
    // The failed run left the start where it was; the next run queues everything.
    expect((await cursor())?.from).toBe(testStart.toISOString());
    const next = await runHandler();
    expect(next.error).toBeUndefined();
    expect(await queuedEvents()).toHaveLength(2);
});

it('transient errors are retried by the HTTP layer, then fail the invocation without moving the cursor', async () => {
    const ids = await completeInstances(3, 'apps-test', false);
    await stack.sim.control.addFault({ endpoint: 'events.query', status: 503, times: 1 });
    const once = await runHandler();
    expect(once.error).toBeUndefined();
    expect((await queuedEvents()).map((e) => e.id)).toEqual(ids);
    expect(calls(stack.sim, 'events.query')['503']).toBe(1);

    await completeInstances(1, 'apps-test', false);
    await stack.sim.control.addFault({ endpoint: 'events.query', status: 503 });
    const down = await runHandler();
    expect((down.error as Error).message).toMatch(/Catch-up failed/);
    expect(down.logs.some((log) => log.message.includes('step=altinn-http-retry'))).toBe(true);
    expect((await cursor())?.after).toBe(ids[2]);
    await stack.sim.control.clearFaults();
    await runHandler();
    expect(await queuedEvents()).toHaveLength(1);
});

it('several apps: one log line each, each with its own cursor; one failing app does not stop the others', async () => {
    const deps = freshDeps({ CatchUpApps: 'ttd/apps-test, ttd/other-app, ttd/third-app' });
    await completeInstances(2, 'apps-test', false);
    await completeInstances(3, 'other-app', false);
    await completeInstances(1, 'third-app', false);
    await stack.sim.control.addFault({ endpoint: 'events.query', pathContains: 'other-app', status: 403 });
    const { context, logs } = invocationContext('EventsCatchUp');
    const results = await runCatchUp(deps, context);
    expect(results.map((r) => [r.app, r.queued, r.stopped])).toEqual([
        ['apps-test', 2, 'caught-up'],
        ['other-app', 0, 'error'],
        ['third-app', 1, 'caught-up'],
    ]);
    const lines = logs.filter((log) => log.message.startsWith('step=catch-up '));
    expect(lines).toHaveLength(3);
    expect(lines[1].message).toMatch(/status=403 .*setting="MaskinportenScopes/);
    expect((await cursor('third-app'))?.after).toBe(results[2].after);
    expect(await queuedEvents()).toHaveLength(3);
});

it('a damaged cursor stops that app with a message that says how to fix it, and is never overwritten', async () => {
    const state = stack.container(containers.state);
    await state.createIfNotExists();
    const name = cursorBlobName('ttd', 'apps-test');
    await state.getBlockBlobClient(name).upload('{"after": ""}', 13);
    await completeInstances(1, 'apps-test', false);
    const { context, logs } = invocationContext('a');
    const result = await catchUpApp(freshDeps(), { org: 'ttd', app: 'apps-test' }, context);
    expect(result.stopped).toBe('error');
    expect(logs.find((log) => log.level === 'error')?.message).toMatch(
        /catch-up\/ttd\/apps-test.json has an .*after.* that is not a non-empty string; fix it .* or delete it to start again/,
    );
    expect(await getBlob(state, name)).toBe('{"after": ""}');
    expect(await queuedEvents()).toEqual([]);
});
