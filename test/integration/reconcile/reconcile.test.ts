import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { QueueClient } from '@azure/storage-queue';
import { instanceSubject, lastRuns, ledgerOf } from '../../../shared/ledger';
import { createStorage, encodeQueueMessage } from '../../../shared/storage';
import { repoRoot, type HostProcess } from '../../support/host';
import { waitUntil } from '../../support/simulator';
import { startHostedStack, type HostedStack, type Stack } from '../subscriptions/stack';

/*
 * Reconciliation and the ledger through the local Functions host with the project's own
 * registrations: an instance no event ever announced is found in Storage, stored and confirmed;
 * one already stored is confirmed without its data being fetched again; and `aos ledger show`
 * answers for instances that came by the webhook, the catch-up and reconciliation, and for one
 * that failed. Needs `npm run build` first.
 */

jest.setTimeout(120_000);

const app = 'recon-app';
const functionKey = 'reconcile-test-key';
let stack: Stack;
let host: HostProcess;
let hosted: HostedStack;

beforeAll(async () => {
    hosted = await startHostedStack(functionKey, {
        CatchUpApps: `ttd/${app}`,
        CatchUpFrom: new Date(Date.now() - 60_000).toISOString(),
        AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '2',
        AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:01',
        AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.500',
    });
    ({ stack, host } = hosted);
});

afterAll(() => hosted?.stop());

const runTimer = (name: string) => hosted.runTimer(name);

/** Data elements fetched so far, from either origin. */
function dataGets(): number {
    const { requests } = stack.sim.counters();
    const total = (endpoint: string) => Object.values(requests[endpoint] ?? {}).reduce((sum, n) => sum + n, 0);
    return total('apps.getData') + total('storage.getData');
}

async function confirmed(id: string, timeoutMs = 60_000): Promise<void> {
    await waitUntil(() => (stack.sim.counters().completes[id] ? true : undefined), timeoutMs, `complete of ${id}`);
}

async function ledgerShow(id: string): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const { stdout, stderr } = await promisify(execFile)(
            process.execPath,
            [join(repoRoot, 'dist', 'tools', 'aos.js'), 'ledger', 'show', id],
            { cwd: repoRoot, env: { ...process.env, AzureWebJobsStorage: stack.env.AzureWebJobsStorage } },
        );
        return { code: 0, stdout, stderr };
    } catch (error) {
        const failed = error as { code: number; stdout: string; stderr: string };
        return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
}

const instances: Record<'reconciled' | 'stored' | 'caughtUp', { id: string; instanceGuid: string }> = {} as never;

test('an instance complete in Altinn with no event anywhere is found by reconciliation, stored and confirmed', async () => {
    const created = await stack.sim.control.createInstance({
        app,
        process: 'completed',
        publish: false,
        dataElements: [{ dataType: 'model', content: '<form/>' }],
    });
    instances.reconciled = created;
    expect(
        (await stack.sim.control.listEvents()).filter((e) => String(e.source).endsWith(created.instanceGuid)),
    ).toEqual([]);

    const from = host.output().length;
    await runTimer('InstancesReconcile');
    await confirmed(created.id);
    await host.waitForOutput(
        new RegExp(`step=reconcile-run app=ttd/${app} found=1 queued=1 unconfirmed=1 oldestUnconfirmedHours=0\\.0`),
        10_000,
        from,
    );
    const blob = stack.container('inbound').getBlobClient(`ttd/${app}/${created.instanceGuid}/instance.json`);
    expect(await blob.exists()).toBe(true);
    expect(stack.sim.counters().completes[created.id]).toBe(1);

    const ledger = ledgerOf(createStorage({ AzureWebJobsStorage: stack.env.AzureWebJobsStorage }));
    await waitUntil(async () => ((await ledger.find(created.id))[0]?.confirmed ? true : undefined), 10_000, 'ledger');
    expect((await ledger.find(created.id))[0]).toMatchObject({ firstSeenVia: 'reconciliation', elements: 1 });
});

test('an instance stored whose confirmation was poisoned: left alone for a day, then confirmed by reconciliation without a second download', async () => {
    const created = await stack.sim.control.createInstance({
        app,
        process: 'completed',
        publish: true,
        deliver: false,
        dataElements: [
            { dataType: 'model', content: '<form/>' },
            { dataType: 'attachment', size: 20_000 },
        ],
    });
    instances.stored = created;
    // Complete keeps failing: the instance is stored, its confirmation ends in the poison queue.
    const fault = await stack.sim.control.addFault({
        endpoint: 'apps.complete',
        pathContains: created.instanceGuid,
        status: 503,
    });
    const webhookEvent = created.events[0];
    await new QueueClient(stack.env.AzureWebJobsStorage, 'events-inbound').sendMessage(
        encodeQueueMessage(JSON.stringify(webhookEvent)),
    );
    const poison = new QueueClient(stack.env.AzureWebJobsStorage, 'events-confirmation-poison');
    await waitUntil(
        async () =>
            (await poison.exists()) && (await poison.peekMessages()).peekedMessageItems.length > 0 ? true : undefined,
        60_000,
        'the confirmation in the poison queue',
    );
    expect(stack.sim.counters().completes[created.id]).toBeUndefined();
    await stack.sim.control.removeFault(fault.id);

    // Poisoned just now: reconciliation leaves it to `aos poison replay`, or to a day from now.
    let from = host.output().length;
    await runTimer('InstancesReconcile');
    await host.waitForOutput(
        new RegExp(`step=reconcile-run app=ttd/${app} found=1 queued=0 [^\\n]* poisoned=1`),
        10_000,
        from,
    );
    const ledger = ledgerOf(createStorage({ AzureWebJobsStorage: stack.env.AzureWebJobsStorage }));
    const [entry] = await ledger.find(created.id);
    expect(entry.poisonedAt).toBeInstanceOf(Date);
    // A day later.
    const dayAgo = new Date(Date.now() - 25 * 3_600_000);
    await ledger.merge(
        instanceSubject({ org: 'ttd', app, partyId: String(created.partyId), instanceGuid: created.instanceGuid }),
        {
            firstSeenAt: dayAgo,
            storedAt: dayAgo,
            lastFailureAt: dayAgo,
            poisonedAt: dayAgo,
        },
    );

    const before = dataGets();
    from = host.output().length;
    await runTimer('InstancesReconcile');
    await confirmed(created.id);
    await host.waitForOutput(
        new RegExp(`step=instance-unchanged eventId=reconcile-${created.instanceGuid}`),
        10_000,
        from,
    );
    await host.waitForOutput(new RegExp(`step=reconcile-run app=ttd/${app} found=1 queued=1 `), 10_000, from);
    expect(dataGets()).toBe(before);
    expect(stack.sim.counters().completes[created.id]).toBe(1);
});

test('an event only the Events query API has is caught up, and the ledger says so', async () => {
    const created = await stack.sim.control.createInstance({
        app,
        process: 'completed',
        publish: true,
        deliver: false,
        dataElements: [{ dataType: 'model', content: '<form/>' }],
    });
    instances.caughtUp = created;
    await runTimer('EventsCatchUp');
    await confirmed(created.id);
    // The run itself is recorded for the status page: when, and what it queued.
    const runs = await lastRuns(
        ledgerOf(createStorage({ AzureWebJobsStorage: stack.env.AzureWebJobsStorage })),
        'catchup',
    );
    expect(runs).toEqual([expect.objectContaining({ subject: `ttd/${app}`, queued: expect.any(Number) as number })]);
    expect(runs[0].queued).toBeGreaterThanOrEqual(1);
    expect(runs[0].error).toBeUndefined();
});

test('npm run aos -- ledger show answers for reconciliation, webhook (failed, then confirmed) and catch-up', async () => {
    const ledger = ledgerOf(createStorage({ AzureWebJobsStorage: stack.env.AzureWebJobsStorage }));
    for (const { id } of Object.values(instances)) {
        await waitUntil(async () => ((await ledger.find(id))[0]?.confirmed ? true : undefined), 10_000, `ledger ${id}`);
    }

    const reconciled = await ledgerShow(instances.reconciled.id);
    expect(reconciled.code).toBe(0);
    expect(reconciled.stdout).toMatch(new RegExp(`^instance ${instances.reconciled.id}  ttd/${app}\n`));
    expect(reconciled.stdout).toMatch(/first seen +\S+ +via reconciliation +\(event reconcile-/);
    expect(reconciled.stdout).toMatch(/stored +\S+ +1 element\(s\), 7 bytes/);
    expect(reconciled.stdout).toMatch(/confirmed +\d{4}-/);

    const failed = await ledgerShow(instances.stored.instanceGuid);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toMatch(/first seen +\S+ +via webhook/);
    expect(failed.stdout).toMatch(/stored +\S+ +2 element\(s\), 20007 bytes/);
    expect(failed.stdout).toMatch(/last failure +\S+ +confirm: .*503/);
    expect(failed.stdout).toMatch(/poisoned +\d{4}-/);
    expect(failed.stdout).toMatch(/confirmed +\d{4}-/);

    const caughtUp = await ledgerShow(instances.caughtUp.id);
    expect(caughtUp.stdout).toMatch(/first seen +\S+ +via catchup/);

    const unknown = await ledgerShow('50000000/00000000-0000-4000-8000-000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('The ledger has no instance, Broker file or sent file');
});

test('npm run aos -- reconcile --dry-run lists what would be queued and queues nothing', async () => {
    const created = await stack.sim.control.createInstance({ app, process: 'completed', publish: false });
    const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(repoRoot, 'dist', 'tools', 'aos.js'), 'reconcile', '--app', `ttd/${app}`, '--dry-run'],
        { cwd: repoRoot, env: { ...process.env, ...stack.env } },
    );
    const [summary, ...listed] = stdout.trimEnd().split('\n');
    expect(summary).toBe(`ttd/${app}: 1 instance(s) complete and not confirmed; would queue 1:`);
    expect(listed).toEqual([expect.stringMatching(new RegExp(`^  ${created.id}  ended \\d{4}-`))]);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(stack.sim.counters().completes[created.id]).toBeUndefined();
    expect(
        await ledgerOf(createStorage({ AzureWebJobsStorage: stack.env.AzureWebJobsStorage })).find(created.id),
    ).toEqual([]);
});
