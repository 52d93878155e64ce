import { eventsDeSubscriber } from '../../../functions/eventsDeSubscriber';
import { eventsSubscriber } from '../../../functions/eventsSubscriber';
import { containers } from '../../../shared/names';
import type { FailedRecord } from '../../../shared/subscriptions';
import { invocationContext } from '../../support/functions';
import { startReceiver, waitUntil, type Receiver } from '../../support/simulator';
import { applyEnv, blobNames, calls, getBlob, putBlob, startStack, timer, type Stack } from './stack';

/*
 * EventsSubscriber and EventsDeSubscriber, called as the host calls them (timer object, real
 * InvocationContext), against Azurite and the Altinn simulator.
 */

jest.setTimeout(30_000);

let stack: Stack;
let receiver: Receiver;
const completed = 'app.instance.process.completed';

beforeAll(async () => {
    stack = await startStack();
    applyEnv(stack.env);
    receiver = await startReceiver();
});

afterAll(async () => {
    await receiver?.stop();
    await stack?.stop();
});

afterEach(async () => {
    await stack.sim.control.reset();
    await stack.sim.control.clearFaults();
    receiver.received.length = 0;
    for (const name of Object.values(containers)) await stack.container(name).deleteIfExists();
});

const add = () => stack.container(containers.addSubscriptions);
const remove = () => stack.container(containers.removeSubscriptions);
const active = () => stack.container(containers.activeSubscriptions);
const failed = () => stack.container(containers.failedSubscriptions);

function request(fields: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        endPoint: `${receiver.url}/api/eventsreceiver?code=function-key`,
        sourceFilter: `${stack.sim.appsUrl}/ttd/apps-test`,
        typeFilter: completed,
        ...fields,
    };
}

async function runSubscriber() {
    const { context, logs } = invocationContext('EventsSubscriber');
    let error: unknown;
    await eventsSubscriber(timer(), context).catch((e: unknown) => (error = e));
    return { logs, error };
}

async function runDeSubscriber() {
    const { context, logs } = invocationContext('EventsDeSubscriber');
    let error: unknown;
    await eventsDeSubscriber(timer(), context).catch((e: unknown) => (error = e));
    return { logs, error };
}

async function failedRecord(name: string): Promise<FailedRecord> {
    const text = await getBlob(failed(), name);
    expect(text).toBeDefined();
    return JSON.parse(text!) as FailedRecord;
}

describe('EventsSubscriber', () => {
    it('registers a dropped request, Altinn validates it through the webhook, and its answer is stored as active', async () => {
        await putBlob(add(), 'ttd-apps-test.json', JSON.stringify(request()));
        const { logs, error } = await runSubscriber();
        expect(error).toBeUndefined();

        const [subscription] = await stack.sim.control.listSubscriptions();
        expect(subscription).toMatchObject({
            sourceFilter: `${stack.sim.appsUrl}/ttd/apps-test`,
            typeFilter: completed,
        });
        // The registered subscription, exactly as Altinn returned it, with its id.
        const stored = JSON.parse((await getBlob(active(), 'ttd-apps-test.json'))!) as Record<string, unknown>;
        expect(stored).toMatchObject({
            id: subscription.id,
            endPoint: `${receiver.url}/api/eventsreceiver?code=function-key`,
            resourceFilter: 'urn:altinn:resource:app_ttd_apps-test',
            consumer: '/org/ttd',
            validated: false,
        });
        expect(await blobNames(add())).toEqual([]);
        expect(await blobNames(failed())).toEqual([]);

        // Altinn pushes the validation event to the endpoint; a 2xx marks the subscription validated.
        const [validation] = await receiver.waitFor(1);
        expect(validation.url).toBe('/api/eventsreceiver?code=function-key');
        expect(JSON.parse(validation.body)).toMatchObject({ type: 'platform.events.validatesubscription' });
        await waitUntil(async () => ((await stack.sim.control.listSubscriptions())[0]?.validated ? true : undefined));
        expect(stack.sim.counters().deliveries[String(subscription.id)]).toBeDefined();
        expect(calls(stack.sim, 'events.subscriptions')).toEqual({ 201: 1 });

        const line = logs.find((log) => log.message.includes('step=subscription-added'));
        expect(line?.message).toContain(`id=${subscription.id}`);
        // The function key in the endpoint never reaches the log.
        expect(logs.map((log) => log.message).join('\n')).not.toContain('function-key');
    });

    it('refuses bad requests locally: each lands in failed-subscriptions with a reason, and Altinn gets no call', async () => {
        const bad: Record<string, string> = {
            'trailing-slash.json': JSON.stringify(request({ sourceFilter: `${stack.sim.appsUrl}/ttd/apps-test/` })),
            'http-endpoint.json': JSON.stringify(request({ endPoint: 'http://aos.example.no/api/eventsreceiver' })),
            'empty-type.json': JSON.stringify(request({ typeFilter: '' })),
            'not-json.json': '{"endPoint": "https://x',
            'broker-alt-subject.json': JSON.stringify(
                request({
                    resourceFilter: 'urn:altinn:resource:ttd-broker',
                    sourceFilter: undefined,
                    alternativeSubjectFilter: '/org/991825827',
                }),
            ),
            'no-suffix': JSON.stringify({ sourceFilter: `${stack.sim.appsUrl}/ttd/apps-test` }),
        };
        for (const [name, text] of Object.entries(bad)) await putBlob(add(), name, text);
        const { logs, error } = await runSubscriber();
        expect(error).toBeUndefined();

        expect(await blobNames(add())).toEqual([]);
        expect((await blobNames(failed())).sort()).toEqual([
            'broker-alt-subject.json',
            'empty-type.json',
            'http-endpoint.json',
            'no-suffix.json',
            'not-json.json',
            'trailing-slash.json',
        ]);
        const trailing = await failedRecord('trailing-slash.json');
        expect(trailing).toEqual({
            operation: 'add',
            name: 'trailing-slash',
            request: JSON.parse(bad['trailing-slash.json']) as unknown,
            error: { message: expect.stringMatching(/without a trailing slash/) as unknown },
            failedAt: expect.any(String) as unknown,
        });
        expect((await failedRecord('http-endpoint.json')).error.message).toMatch(/must use https/);
        expect((await failedRecord('empty-type.json')).error.message).toMatch(/matches nothing/);
        expect((await failedRecord('broker-alt-subject.json')).error.message).toMatch(/alternativeSubjectFilter/);
        expect((await failedRecord('no-suffix.json')).error.message).toMatch(/endPoint is required/);
        const notJson = await failedRecord('not-json.json');
        expect(notJson.request).toBe(bad['not-json.json']);
        expect(notJson.error.message).toMatch(/not valid JSON/);

        // Not one call to Altinn Events.
        expect(calls(stack.sim, 'events.subscriptions')).toEqual({});
        expect(logs.filter((log) => log.message.includes('step=subscription-refused'))).toHaveLength(6);
    });

    it("a request Altinn refuses (4xx) lands in failed-subscriptions with Altinn's status and message", async () => {
        // On the apps origin, so valid locally, but another org's app: Altinn's authorization refuses it.
        await putBlob(
            add(),
            'other-org.json',
            JSON.stringify(request({ sourceFilter: `${stack.sim.appsUrl}/skd/app` })),
        );
        const { error } = await runSubscriber();
        expect(error).toBeUndefined();
        const record = await failedRecord('other-org.json');
        expect(record.error.status).toBe(403);
        expect(record.error.message).toMatch(
            /Not authorized to create a subscription for resource urn:altinn:resource:app_skd_app/,
        );
        expect(await blobNames(add())).toEqual([]);
        expect(await blobNames(active())).toEqual([]);
        expect(calls(stack.sim, 'events.subscriptions')).toEqual({ 403: 1 });
    });

    it('leaves a request in place when Altinn fails transiently, and registers it on the next run', async () => {
        await stack.sim.control.addFault({ endpoint: 'events.subscriptions', status: 503 });
        await putBlob(add(), 'later.json', JSON.stringify(request()));
        const first = await runSubscriber();
        expect(first.error).toBeInstanceOf(Error);
        expect((first.error as Error).message).toMatch(/stay in add-subscriptions/);
        expect(
            first.logs.some((log) => log.level === 'error' && log.message.includes('step=subscription-deferred')),
        ).toBe(true);
        expect(await blobNames(add())).toEqual(['later.json']);
        expect(await blobNames(failed())).toEqual([]);
        expect(await stack.sim.control.listSubscriptions()).toEqual([]);

        await stack.sim.control.clearFaults();
        const second = await runSubscriber();
        expect(second.error).toBeUndefined();
        expect(await blobNames(add())).toEqual([]);
        expect(await blobNames(active())).toEqual(['later.json']);
        expect(await stack.sim.control.listSubscriptions()).toHaveLength(1);
    });

    it('skips a request another run holds (leased), and processes each request once when two runs overlap', async () => {
        await putBlob(add(), 'held.json', JSON.stringify(request({ typeFilter: 'app.instance.created' })));
        const lease = add().getBlobClient('held.json').getBlobLeaseClient();
        await lease.acquireLease(15);
        for (let i = 0; i < 6; i++) {
            await putBlob(
                add(),
                `app-${i}.json`,
                JSON.stringify(request({ sourceFilter: `${stack.sim.appsUrl}/ttd/app-${i}` })),
            );
        }
        const [a, b] = await Promise.all([runSubscriber(), runSubscriber()]);
        expect(a.error).toBeUndefined();
        expect(b.error).toBeUndefined();
        expect(await blobNames(add())).toEqual(['held.json']);
        expect((await blobNames(active())).sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `app-${i}.json`));
        // Each of the six registered exactly once, by one of the runs.
        expect(calls(stack.sim, 'events.subscriptions')).toEqual({ 201: 6 });
        const skipped = [...a.logs, ...b.logs].filter((log) => log.message.includes('step=subscription-skipped'));
        expect(skipped.some((log) => log.message.includes('name=held'))).toBe(true);

        await lease.releaseLease();
        await runSubscriber();
        expect(await blobNames(add())).toEqual([]);
        expect(await stack.sim.control.listSubscriptions()).toHaveLength(7);
    });

    it('accepts the same request again under the same name, and refuses a different one that would orphan the first', async () => {
        await putBlob(add(), 'twice.json', JSON.stringify(request()));
        await runSubscriber();
        const first = JSON.parse((await getBlob(active(), 'twice.json'))!) as { id: number };

        await putBlob(add(), 'twice.json', JSON.stringify(request()));
        await runSubscriber();
        const again = JSON.parse((await getBlob(active(), 'twice.json'))!) as { id: number };
        expect(again.id).toBe(first.id);
        expect(await stack.sim.control.listSubscriptions()).toHaveLength(1);

        await putBlob(add(), 'twice.json', JSON.stringify(request({ typeFilter: 'app.instance.created' })));
        await runSubscriber();
        expect((await failedRecord('twice.json')).error.message).toMatch(
            /already holds a different subscription \(id \d+\)/,
        );
        expect(calls(stack.sim, 'events.subscriptions')).toEqual({ 201: 2 });
        expect(JSON.parse((await getBlob(active(), 'twice.json'))!)).toMatchObject({ id: first.id });
    });
});

describe('normalised as Altinn stores subscriptions', () => {
    it('sends the derived resourceFilter, and takes a re-drop in another spelling for the same subscription', async () => {
        const app = 'Case-App';
        const spelled = (scheme: string, resourceFilter?: string) =>
            request({
                endPoint: `${receiver.url.replace('http:', scheme)}/api/eventsreceiver?code=function-key`,
                sourceFilter: `${stack.sim.appsUrl}/ttd/${app}`,
                ...(resourceFilter ? { resourceFilter } : {}),
            });
        await putBlob(add(), 'cased.json', JSON.stringify(spelled('HTTP:')));
        expect((await runSubscriber()).error).toBeUndefined();
        const [subscription] = await stack.sim.control.listSubscriptions();
        // Altinn lowercases what it stores; the request carried urn:altinn:resource:app_ttd_Case-App.
        expect(subscription.resourceFilter).toBe('urn:altinn:resource:app_ttd_case-app');

        await putBlob(add(), 'cased.json', JSON.stringify(spelled('http:', 'urn:altinn:resource:app_ttd_Case-App')));
        expect((await runSubscriber()).error).toBeUndefined();
        expect(await blobNames(failed())).toEqual([]);
        expect(await stack.sim.control.listSubscriptions()).toHaveLength(1);
        expect(JSON.parse((await getBlob(active(), 'cased.json'))!)).toMatchObject({ id: subscription.id });
    });
});

describe('EventsDeSubscriber', () => {
    async function subscribed(name: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
        await putBlob(add(), `${name}.json`, JSON.stringify(request(fields)));
        await runSubscriber();
        return JSON.parse((await getBlob(active(), `${name}.json`))!) as Record<string, unknown>;
    }

    it('removes a subscription given a copy of the active blob: Altinn deletes it, both blobs are gone', async () => {
        const subscription = await subscribed('ttd-apps-test');
        await putBlob(remove(), 'ttd-apps-test.json', JSON.stringify(subscription));
        const { logs, error } = await runDeSubscriber();
        expect(error).toBeUndefined();
        expect(await stack.sim.control.listSubscriptions()).toEqual([]);
        expect(await blobNames(remove())).toEqual([]);
        expect(await blobNames(active())).toEqual([]);
        expect(calls(stack.sim, 'events.subscriptions')).toEqual({ 201: 1, 200: 1 });
        expect(
            logs.some((log) =>
                log.message.includes(
                    `step=subscription-removed name=ttd-apps-test id=${String(subscription.id)} altinn=deleted`,
                ),
            ),
        ).toBe(true);
    });

    it('accepts {id}, a numeric string id, or a file without an id (then the active blob of that name says which)', async () => {
        const a = await subscribed('a', { typeFilter: 'a.one' });
        const b = await subscribed('b', { typeFilter: 'b.two' });
        const c = await subscribed('c', { typeFilter: 'c.three' });
        await putBlob(remove(), 'whatever.json', JSON.stringify({ id: a.id }));
        await putBlob(remove(), 'b.json', JSON.stringify({ id: String(b.id) }));
        await putBlob(remove(), 'c.json', '');
        const { error } = await runDeSubscriber();
        expect(error).toBeUndefined();
        expect(await stack.sim.control.listSubscriptions()).toEqual([]);
        expect(await blobNames(remove())).toEqual([]);
        // The active blob holding the id goes, whatever the remove file was called.
        expect(await blobNames(active())).toEqual([]);
        expect(c.id).toBeDefined();
    });

    it('counts a subscription Altinn no longer has (404) as already gone', async () => {
        const subscription = await subscribed('gone');
        await stack.sim.control.reset(); // Altinn forgot it
        await putBlob(remove(), 'gone.json', JSON.stringify(subscription));
        const { logs, error } = await runDeSubscriber();
        expect(error).toBeUndefined();
        expect(await blobNames(remove())).toEqual([]);
        expect(await blobNames(active())).toEqual([]);
        expect(calls(stack.sim, 'events.subscriptions')).toEqual({ 404: 1 });
        expect(logs.some((log) => log.message.includes('altinn=notFound'))).toBe(true);
    });

    it('moves a request it cannot act on to failed-subscriptions without calling Altinn', async () => {
        await putBlob(remove(), 'nothing-active.json', '{}');
        await putBlob(remove(), 'bad-id.json', JSON.stringify({ id: 'abc' }));
        await putBlob(remove(), 'array.json', '[1]');
        const { error } = await runDeSubscriber();
        expect(error).toBeUndefined();
        expect(await blobNames(remove())).toEqual([]);
        expect((await failedRecord('nothing-active.json')).error.message).toMatch(
            /no id.*active-subscriptions\/nothing-active.json/,
        );
        expect((await failedRecord('bad-id.json')).error.message).toMatch(/positive whole number/);
        expect((await failedRecord('array.json')).operation).toBe('remove');
        expect(calls(stack.sim, 'events.subscriptions')).toEqual({});
    });

    it('a subscription of another consumer (403) is refused; a transient failure leaves the request in place', async () => {
        const subscription = await subscribed('mine');
        await stack.sim.control.addFault({ endpoint: 'events.subscriptions', status: 502 });
        await putBlob(remove(), 'mine.json', JSON.stringify(subscription));
        const first = await runDeSubscriber();
        expect((first.error as Error).message).toMatch(/stay in remove-subscriptions/);
        expect(await blobNames(remove())).toEqual(['mine.json']);
        expect(await blobNames(active())).toEqual(['mine.json']);

        await stack.sim.control.clearFaults();
        await stack.sim.control.addFault({ endpoint: 'events.subscriptions', status: 403, times: 1 });
        const second = await runDeSubscriber();
        expect(second.error).toBeUndefined();
        expect((await failedRecord('mine.json')).error).toMatchObject({ status: 403 });
        expect(await blobNames(active())).toEqual(['mine.json']);
        expect(await stack.sim.control.listSubscriptions()).toHaveLength(1);
    });
});
