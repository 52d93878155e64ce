import { containers } from '../../../shared/names';
import { type HostProcess } from '../../support/host';
import { waitUntil } from '../../support/simulator';
import {
    blobNames,
    drainQueue,
    getBlob,
    putBlob,
    startHostedStack,
    type HostedStack,
    type Stack,
} from '../subscriptions/stack';

/*
 * End to end through the local Functions host (a child process running the app's real function
 * registrations from dist/): EventsSubscriber registers a subscription whose endpoint is the host's
 * own /api/eventsreceiver, which answers Altinn's validation. Then, with every webhook push failing,
 * EventsCatchUp brings 100 completed instances into events-inbound, and the pipeline stores and
 * confirms each. Finally, with both paths delivering the same events, each instance is fetched
 * once, downloaded once, confirmed once and handed off once: the catch-up's copies are known to the
 * ledger as handled. Timers are run through the host's admin API rather than waited for.
 */

jest.setTimeout(120_000);

const app = 'e2e-app';
const completed = 'app.instance.process.completed';
const functionKey = 'e2e-function-key';
let stack: Stack;
let host: HostProcess;
let hosted: HostedStack;

beforeAll(async () => {
    hosted = await startHostedStack(functionKey, {
        CatchUpApps: `ttd/${app}`,
        CatchUpFrom: new Date(Date.now() - 60_000).toISOString(),
        HttpRetryBudgetSeconds: '10',
    });
    ({ stack, host } = hosted);
});

afterAll(() => hosted?.stop());

/** A failed wait says what the host printed, since that is where the functions log. */
async function hostWait<T>(wait: Promise<T>): Promise<T> {
    try {
        return await wait;
    } catch (error) {
        throw new Error(`${(error as Error).message}\nhost output (tail):\n${host.output().slice(-6000)}`, {
            cause: error,
        });
    }
}

const runTimer = (name: string) => hosted.runTimer(name);

interface Created {
    id: string;
    instanceGuid: string;
    elements: { id: string; size: number }[];
}

async function completeInstances(count: number): Promise<Created[]> {
    const created: Created[] = [];
    for (let i = 0; i < count; i++) {
        const instance = await stack.sim.control.createInstance({
            app,
            process: 'completed',
            publish: [completed],
            dataElements: [
                {
                    dataType: 'model',
                    contentType: 'application/xml',
                    filename: 'form.xml',
                    content: `<form n="${i}"/>`,
                },
                {
                    dataType: 'attachment',
                    contentType: 'application/pdf',
                    filename: 'a.pdf',
                    size: 3000,
                    seed: `s${i}`,
                },
            ],
        });
        created.push({
            id: instance.id,
            instanceGuid: instance.instanceGuid,
            elements: instance.dataElements.map((element) => ({ id: element.id, size: element.size })),
        });
    }
    return created;
}

/** Waits until every instance is stored (instance.json, written last) and confirmed. */
async function waitStoredAndConfirmed(instances: Created[], timeoutMs: number): Promise<void> {
    const inbound = stack.container(containers.inbound);
    await hostWait(
        waitUntil(
            async () => {
                const completes = stack.sim.counters().completes;
                if (!instances.every((instance) => (completes[instance.id] ?? 0) >= 1)) return undefined;
                for (const instance of instances) {
                    if ((await getBlob(inbound, `ttd/${app}/${instance.instanceGuid}/instance.json`)) === undefined) {
                        return undefined;
                    }
                }
                return true;
            },
            timeoutMs,
            `${instances.length} instances stored and confirmed`,
        ),
    );
}

it('a subscription file is registered and validated through the host’s own webhook', async () => {
    await putBlob(
        stack.container(containers.addSubscriptions),
        `ttd-${app}.json`,
        JSON.stringify({
            endPoint: `${host.url}/api/eventsreceiver?code=${functionKey}`,
            sourceFilter: `${stack.sim.appsUrl}/ttd/${app}`,
            typeFilter: completed,
        }),
    );
    await runTimer('EventsSubscriber');
    const active = await hostWait(
        waitUntil(
            () => getBlob(stack.container(containers.activeSubscriptions), `ttd-${app}.json`),
            15_000,
            'the active subscription',
        ),
    );
    const { id } = JSON.parse(active) as { id: number };
    await waitUntil(
        async () =>
            (await stack.sim.control.listSubscriptions()).find((s) => s.id === id)?.validated ? true : undefined,
        15_000,
        'the subscription validated',
    );
    expect(await blobNames(stack.container(containers.addSubscriptions))).toEqual([]);
    await host.waitForOutput(/step=validated-subscription/);
});

it('with every webhook push failing, the catch-up brings all 100 instances in: stored, confirmed, downloaded once', async () => {
    await stack.sim.control.addFault({ endpoint: 'delivery', eventType: completed, status: 503 });
    const instances = await completeInstances(100);
    await waitUntil(() => (stack.sim.counters().faultsApplied.delivery ?? 0) >= 100 || undefined, 15_000);
    expect(Object.keys(stack.sim.counters().completes)).toHaveLength(0);

    await runTimer('EventsCatchUp');
    await host.waitForOutput(new RegExp(`step=catch-up org=ttd app=${app} pages=2 queued=100 `), 30_000);
    await waitStoredAndConfirmed(instances, 90_000);

    const { contentBytes } = stack.sim.counters();
    for (const element of instances.flatMap((instance) => instance.elements)) {
        expect(contentBytes[element.id]).toBe(element.size);
    }
});

it('webhook and catch-up for the same instances: one complete, one hand-off each; the catch-up copy costs no GET', async () => {
    await stack.sim.control.clearFaults(); // the webhook works again; Altinn's pending retries now succeed too
    await drainQueue(stack.azurite.connectionString, 'instances-received');
    const instances = await completeInstances(10);
    await waitStoredAndConfirmed(instances, 60_000);
    // The webhook's copies are handled to the end (the hand-off is the last thing they do).
    await hostWait(
        waitUntil(
            () => {
                const out = host.output();
                return instances.every((i) => new RegExp(`step=handed-off [^\\n]*instanceId=${i.id}\\b`).test(out))
                    ? true
                    : undefined;
            },
            30_000,
            'the webhook copies handed off',
        ),
    );
    const readsBefore = stack.sim.counters().instanceReads;

    // The same events again through the catch-up: the ledger knows each was handled to the end.
    const mark = host.output().length;
    await runTimer('EventsCatchUp');
    await host.waitForOutput(new RegExp(`step=catch-up org=ttd app=${app} pages=2 queued=10 `), 30_000, mark);
    await hostWait(
        waitUntil(
            () => {
                const since = host.output().slice(mark);
                return instances.every((instance) =>
                    new RegExp(
                        `step=already-done [^\\n]*instanceId=${instance.id}\\b[^\\n]*reason="this event was handled`,
                    ).test(since),
                )
                    ? true
                    : undefined;
            },
            60_000,
            'the catch-up copies seen as already done',
        ),
    );

    const { contentBytes, completes } = stack.sim.counters();
    for (const element of instances.flatMap((instance) => instance.elements)) {
        expect(contentBytes[element.id]).toBe(element.size);
    }
    for (const instance of instances) expect(completes[instance.id]).toBe(1);
    // Not one more GET of these instances for their catch-up copies: one GET each, the webhook's.
    const reads = stack.sim.counters().instanceReads;
    for (const instance of instances) expect([readsBefore[instance.id], reads[instance.id]]).toEqual([1, 1]);
    const handedOff = (await drainQueue(stack.azurite.connectionString, 'instances-received')).map(
        (text) => (JSON.parse(text) as { instanceId: string }).instanceId,
    );
    expect(handedOff.sort()).toEqual(instances.map((instance) => instance.id).sort());
});
