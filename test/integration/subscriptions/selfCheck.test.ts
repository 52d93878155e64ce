import { eventsSubscriber } from '../../../functions/eventsSubscriber';
import { containers } from '../../../shared/names';
import { gatherStatus } from '../../../shared/status';
import { getServices } from '../../../shared/services';
import {
    addSubscription,
    checkSubscriptions,
    checkSubscriptionsIfDue,
    readSubscriptionCheck,
    subscriptionCheckFailedStep,
    subscriptionDeps,
    type SubscriptionDeps,
} from '../../../shared/subscriptions';
import { invocationContext } from '../../support/functions';
import { startReceiver, waitUntil, type Receiver } from '../../support/simulator';
import { applyEnv, calls, putBlob, startStack, timer, type Stack } from './stack';

/*
 * The subscription self-check: active-subscriptions against Altinn's GET subscriptions, with the
 * simulator's faithful validation (a 2xx to the validation event marks it validated).
 */

jest.setTimeout(30_000);

let stack: Stack;
let receiver: Receiver;

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
    receiver.defaultStatus = 200;
    for (const name of Object.values(containers)) await stack.container(name).deleteIfExists();
});

function deps(now?: Date): SubscriptionDeps {
    return { ...subscriptionDeps(getServices()), ...(now ? { now: () => now } : {}) };
}

async function subscribe(name: string): Promise<{ id: number; created: string }> {
    const request = {
        endPoint: `${receiver.url}/api/eventsreceiver?code=secret-function-key`,
        sourceFilter: `${stack.sim.appsUrl}/ttd/apps-test`,
        typeFilter: 'app.instance.process.completed',
    };
    const { subscription } = await addSubscription(deps(), name, JSON.stringify(request));
    return { id: subscription.id, created: subscription.created! };
}

function errorLines(logs: { level: string; message: string }[]): string[] {
    return logs
        .filter((log) => log.level === 'error' && log.message.startsWith(`step=${subscriptionCheckFailedStep}`))
        .map((log) => log.message);
}

it('finds nothing wrong with a validated subscription Altinn has, and stores what it saw', async () => {
    const { id } = await subscribe('ttd-apps-test');
    await waitUntil(async () => ((await stack.sim.control.listSubscriptions())[0]?.validated ? true : undefined));
    const { context, logs } = invocationContext('EventsSubscriber');

    const check = await checkSubscriptions(deps(), context);

    expect(check.subscriptions).toEqual([
        expect.objectContaining({ name: 'ttd-apps-test', id, inAltinn: true, validated: true }),
    ]);
    expect(check.subscriptions[0].problem).toBeUndefined();
    expect(errorLines(logs)).toEqual([]);
    // The function key in the endPoint is never kept for the status page.
    expect(JSON.stringify(await readSubscriptionCheck(getServices().storage))).not.toContain('secret-function-key');
    expect((await readSubscriptionCheck(getServices().storage))?.subscriptions[0]).toMatchObject({
        id,
        validated: true,
    });
});

it('logs at error a subscription that Altinn no longer has', async () => {
    const { id } = await subscribe('gone');
    await deps().events.deleteSubscription(id);
    const { context, logs } = invocationContext('EventsSubscriber');

    const check = await checkSubscriptions(deps(), context);

    expect(check.subscriptions[0]).toMatchObject({
        name: 'gone',
        id,
        inAltinn: false,
        problem: { reason: 'gone-in-altinn' },
    });
    expect(errorLines(logs)).toEqual([
        expect.stringMatching(
            new RegExp(`^step=subscription-check-failed name=gone subscriptionId=${id} reason=gone-in-altinn `),
        ),
    ]);
});

it('gives Altinn an hour to validate a subscription, then logs it at error', async () => {
    receiver.defaultStatus = 503; // the endpoint refuses the validation event, so Altinn never validates it
    const { id, created } = await subscribe('never-validated');
    await receiver.waitFor(1);
    const createdAt = Date.parse(created);

    const early = invocationContext('EventsSubscriber');
    const withinTheHour = await checkSubscriptions(deps(new Date(createdAt + 59 * 60_000)), early.context);
    expect(withinTheHour.subscriptions[0]).toMatchObject({ id, inAltinn: true, validated: false });
    expect(withinTheHour.subscriptions[0].problem).toBeUndefined();
    expect(errorLines(early.logs)).toEqual([]);

    const late = invocationContext('EventsSubscriber');
    const afterTheHour = await checkSubscriptions(deps(new Date(createdAt + 61 * 60_000)), late.context);
    expect(afterTheHour.subscriptions[0]).toMatchObject({ id, validated: false, problem: { reason: 'unvalidated' } });
    expect(errorLines(late.logs)).toEqual([
        expect.stringContaining(`name=never-validated subscriptionId=${id} reason=unvalidated`),
    ]);
});

it('reports an active-subscriptions file without a subscription id', async () => {
    await putBlob(stack.container(containers.activeSubscriptions), 'broken.json', '{"endPoint": "https://x"}');
    const { context, logs } = invocationContext('EventsSubscriber');
    const check = await checkSubscriptions(deps(), context);
    expect(check.subscriptions).toHaveLength(1);
    expect(check.subscriptions[0]).toMatchObject({ name: 'broken', problem: { reason: 'unreadable' } });
    expect(errorLines(logs)).toHaveLength(1);
});

it('runs from EventsSubscriber on a quiet run, and asks Altinn at most every ten minutes', async () => {
    const { id } = await subscribe('ttd-apps-test');
    const before = calls(stack.sim, 'events.subscriptions')['200'] ?? 0;

    const { context } = invocationContext('EventsSubscriber');
    await eventsSubscriber(timer(), context);
    const stored = await readSubscriptionCheck(getServices().storage);
    expect(stored?.subscriptions.map((s) => s.id)).toEqual([id]);
    expect(calls(stack.sim, 'events.subscriptions')['200']).toBe(before + 1);

    // Five minutes on: not due, so Altinn is not asked again.
    const soon = new Date(Date.parse(stored!.checkedAt) + 5 * 60_000);
    expect(await checkSubscriptionsIfDue(deps(soon), context)).toBeUndefined();
    expect(calls(stack.sim, 'events.subscriptions')['200']).toBe(before + 1);

    const later = new Date(Date.parse(stored!.checkedAt) + 11 * 60_000);
    expect(await checkSubscriptionsIfDue(deps(later), context)).toBeDefined();
    expect(calls(stack.sim, 'events.subscriptions')['200']).toBe(before + 2);
});

it('keeps the subscriber running when Altinn cannot be asked, with a warning', async () => {
    await subscribe('ttd-apps-test');
    await stack.sim.control.addFault({ endpoint: 'events.subscriptions', status: 500 });
    const { context, logs } = invocationContext('EventsSubscriber');
    await expect(eventsSubscriber(timer(), context)).resolves.toBeUndefined();
    expect(
        logs.some((log) => log.level === 'warning' && log.message.startsWith('step=subscription-check-skipped')),
    ).toBe(true);
    expect(await readSubscriptionCheck(getServices().storage)).toBeUndefined();
});

describe('Broker subscriptions and fileneverconfirmeddownloaded', () => {
    const resource = 'ttd-selfcheck-broker';
    const brokerDeps = (): SubscriptionDeps => {
        const base = deps();
        return { ...base, config: { ...base.config, brokerResources: [resource] } };
    };
    async function subscribeBroker(name: string, typeFilter?: string): Promise<number> {
        const { orgNumber } = await stack.sim.control.info();
        const request = {
            endPoint: `${receiver.url}/api/eventsreceiver?code=k`,
            resourceFilter: `urn:altinn:resource:${resource}`,
            subjectFilter: `urn:altinn:organization:identifier-no:${orgNumber}`,
            ...(typeFilter === undefined ? {} : { typeFilter }),
        };
        const { subscription } = await addSubscription(brokerDeps(), name, JSON.stringify(request));
        return subscription.id;
    }

    it('flags one filtered to published (Altinn delivers exact type matches only), at error and on the status page', async () => {
        const id = await subscribeBroker('broker-published', 'no.altinn.broker.published');
        const { context, logs } = invocationContext('EventsSubscriber');
        const check = await checkSubscriptions(brokerDeps(), context);
        expect(check.subscriptions).toEqual([
            expect.objectContaining({
                name: 'broker-published',
                id,
                problem: expect.objectContaining({ reason: 'misses-never-confirmed' }) as unknown,
            }),
        ]);
        expect(check.subscriptions[0].problem?.detail).toMatch(
            /no\.altinn\.broker\.fileneverconfirmeddownloaded .*never arrives/,
        );
        expect(errorLines(logs)).toEqual([
            expect.stringMatching(
                new RegExp(
                    `^step=${subscriptionCheckFailedStep} name=broker-published subscriptionId=${id} reason=misses-never-confirmed `,
                ),
            ),
        ]);
        const report = await gatherStatus({
            config: { catchUpApps: [], reconcileApps: [], brokerResources: [resource] },
            storage: getServices().storage,
        });
        expect(report.attention).toContainEqual(
            expect.stringMatching(
                /^Subscription broker-published: subscription \d+ on urn:altinn:resource:ttd-selfcheck-broker has typeFilter "no\.altinn\.broker\.published"/,
            ),
        );
    });

    it('is content once a subscription of the resource has no typeFilter or exactly that type', async () => {
        await subscribeBroker('broker-published', 'no.altinn.broker.published');
        await subscribeBroker('broker-never', 'no.altinn.broker.fileneverconfirmeddownloaded');
        let check = await checkSubscriptions(brokerDeps(), invocationContext('EventsSubscriber').context);
        expect(check.subscriptions.map((entry) => entry.problem?.reason)).toEqual([undefined, undefined]);

        await stack.container(containers.activeSubscriptions).deleteIfExists();
        await subscribeBroker('broker-all');
        check = await checkSubscriptions(brokerDeps(), invocationContext('EventsSubscriber').context);
        expect(check.subscriptions).toEqual([expect.objectContaining({ name: 'broker-all', typeFilter: undefined })]);
        expect(check.subscriptions[0].problem).toBeUndefined();
        // A resource that is not in BrokerResources is none of this check's business.
        check = await checkSubscriptions(deps(), invocationContext('EventsSubscriber').context);
        expect(check.subscriptions[0].problem).toBeUndefined();
    });
});
