import { createAltinnStack, type AltinnStack } from '../../../shared/altinn';
import { createStorageApi } from '../../../shared/altinn/storage';
import { loadConfig } from '../../../shared/config';
import { lastRuns, ledgerOf } from '../../../shared/ledger';
import { queues } from '../../../shared/names';
import { runReconcile, type ReconcileDeps } from '../../../shared/reconcile';
import { createStorage } from '../../../shared/storage';
import { invocationContext } from '../../support/functions';
import { drainQueue, startStack, type Stack } from '../subscriptions/stack';

/*
 * Reconciliation in process against Azurite and the simulator: an app Storage refuses is named in
 * one error line per app and recorded as the app's last run, and the other apps still run; many
 * pages are followed to the end.
 */

jest.setTimeout(60_000);

let stack: Stack;
let altinn: AltinnStack;
let deps: ReconcileDeps;

beforeAll(async () => {
    stack = await startStack({ ReconcileApps: 'ttd/paged-app,skd/broken-app' });
    const config = loadConfig(stack.env);
    altinn = createAltinnStack(config);
    deps = {
        config,
        storage: createStorage(stack.env),
        altinnStorage: createStorageApi(altinn.http, config),
    };
});

afterAll(async () => {
    await altinn?.close();
    await stack?.stop();
});

test('every page is followed; a failing app is logged at error and recorded, and the others still run', async () => {
    const created = [];
    for (let i = 0; i < 5; i++) {
        created.push(await stack.sim.control.createInstance({ app: 'paged-app', process: 'completed' }));
    }
    // Another org's app: Storage refuses the query (403, the PDP's cross-org check).
    const { context, logs } = invocationContext('InstancesReconcile');

    const results = await runReconcile(deps, context, { pageSize: 2 });

    expect(results.map((r) => [r.app, r.found, r.queued, r.error === undefined])).toEqual([
        ['paged-app', 5, 5, true],
        ['broken-app', 0, 0, false],
    ]);
    const queued = (await drainQueue(stack.env.AzureWebJobsStorage, queues.eventsInbound)).map(
        (text) => JSON.parse(text) as Record<string, unknown>,
    );
    expect(queued.map((event) => event.id).sort()).toEqual(created.map((c) => `reconcile-${c.instanceGuid}`).sort());
    expect(queued[0]).toMatchObject({
        specversion: '1.0',
        type: 'app.instance.process.completed',
        aosvia: 'reconciliation',
    });
    const lines = logs.map((log) => `${log.level} ${log.message}`);
    expect(lines).toContainEqual(
        expect.stringMatching(
            /^information step=reconcile-run app=ttd\/paged-app found=5 queued=5 unconfirmed=5 oldestUnconfirmedHours=0\.0 inFlight=0 scanPending=0 poisoned=0 settled=0$/,
        ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^error step=reconcile-failed app=skd\/broken-app error=.*403/));

    const runs = await lastRuns(ledgerOf(deps.storage), 'reconciliation');
    expect(runs.find((run) => run.subject === 'skd/broken-app')).toMatchObject({
        found: 0,
        queued: 0,
        error: expect.stringMatching(/403/) as string,
    });
    expect(runs.find((run) => run.subject === 'ttd/paged-app')).toMatchObject({ found: 5, queued: 5, unconfirmed: 5 });
});
