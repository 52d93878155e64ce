import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionStorage } from '../../../dev/provisionStorage';
import { type Simulator } from '../../../dev/simulator/simulator';
import { createAltinnStack, type AltinnStack } from '../../../shared/altinn';
import { createEventsApi } from '../../../shared/altinn/events';
import type { CheckReport } from '../../../shared/check';
import { loadConfig } from '../../../shared/config';
import { containers, queues } from '../../../shared/names';
import { createStorage, type Storage } from '../../../shared/storage';
import { addSubscription, removeSubscription, type SubscriptionDeps } from '../../../shared/subscriptions';
import { runAos } from '../../../tools/aos';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import {
    clientRegistration,
    clientSettings,
    createClientCredentials,
    startReceiver,
    startTestSimulator,
    waitUntil,
    type ClientCredentials,
    type Receiver,
} from '../../support/simulator';

/*
 * `aos check` run here (in process) against the simulator and Azurite: a good setup passes, and
 * each first-day fault fails with the line that names it. The "deployment" is a scripted webhook
 * (--app-url) that answers Altinn's validation event, as EventsReceiver does.
 */

jest.setTimeout(60_000);

const scopes = [
    'altinn:serviceowner/instances.read',
    'altinn:serviceowner/instances.write',
    'altinn:broker.read',
    'altinn:events.subscribe',
];
const brokerResource = 'ttd-check-broker';

let azurite: AzuriteInstance;
let sim: Simulator;
let creds: ClientCredentials;
let deployment: Receiver;
let elsewhere: Receiver;
let storage: Storage;
let env: Record<string, string>;
let dir: string;
let stack: AltinnStack;
let deps: SubscriptionDeps;

beforeAll(async () => {
    creds = createClientCredentials('check-client');
    [azurite, sim, deployment, elsewhere] = await Promise.all([
        startAzurite(),
        startTestSimulator({ org: 'ttd', brokerResources: [brokerResource] }),
        startReceiver(),
        startReceiver(),
    ]);
    await sim.control.registerClient(clientRegistration(creds, scopes));
    // The app is deployed (Storage knows its application metadata), with no instance yet.
    await sim.control.registerApp({ app: 'check-app' });
    env = {
        AzureWebJobsStorage: azurite.connectionString,
        ...clientSettings(sim, creds, scopes),
        CatchUpApps: 'ttd/check-app',
        BrokerResources: brokerResource,
        HttpRetryBudgetSeconds: '1',
    };
    storage = createStorage(env);
    await provisionStorage(storage);
    dir = mkdtempSync(join(tmpdir(), 'aos-check-'));
    const config = loadConfig(env);
    stack = createAltinnStack(config);
    deps = { config, storage, events: createEventsApi(stack.http, config) };
    await subscribe('good', `${deployment.url}/api/eventsreceiver?code=check-key`);
});

afterAll(async () => {
    await stack?.close();
    await Promise.all([sim?.stop(), azurite?.stop(), deployment?.stop(), elsewhere?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Registers a subscription through the same code as `aos subscriptions add`, and waits until Altinn settled its validation. */
async function subscribe(name: string, endPoint: string, validated = true): Promise<number> {
    const request = JSON.stringify({ endPoint, sourceFilter: `${sim.appsUrl}/ttd/check-app`, typeFilter: name });
    const { subscription } = await addSubscription(deps, name, request);
    if (validated) {
        await waitUntil(
            async () =>
                (await sim.control.listSubscriptions()).find((s) => s.id === subscription.id)?.validated
                    ? true
                    : undefined,
            10_000,
            'validation',
        );
    }
    return subscription.id;
}

async function aosCheck(extraEnv: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAos(['check', '--app-url', deployment.url], {
        env: { ...env, ...extraEnv },
        cwd: dir,
        out: (line) => out.push(line),
        err: (line) => err.push(line),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The table's line for one check (status, name, duration, result). */
function line(out: string, name: string): string {
    const found = out.split('\n').find((row) => row.slice(9).startsWith(`${name} `));
    if (!found) throw new Error(`no line for ${name} in:\n${out}`);
    return found;
}

/** The "what to do" line right under a check's line. */
function todo(out: string, name: string): string {
    const rows = out.split('\n');
    return rows[rows.indexOf(line(out, name)) + 1].trim();
}

it('passes on a good setup, and names what it checked', async () => {
    const { code, out } = await aosCheck();

    expect(code).toBe(0);
    expect(out).not.toMatch(/^failed /m);
    expect(out.split('\n')[0]).toMatch(/^status\s+check\s+took\s+result$/);
    expect(line(out, 'Settings')).toMatch(/^ok\s+Settings\s+\d+ ms {2}every setting parsed/);
    // Every queue of shared/names.ts with its poison queue, and every container.
    const queueCount = Object.values(queues).length * 2;
    expect(line(out, 'Queues')).toMatch(
        new RegExp(`^ok .*all ${queueCount} exist and can be read \\(every queue with its poison queue\\)$`),
    );
    expect(line(out, 'Containers')).toMatch(
        new RegExp(`^ok .*all ${Object.values(containers).length} exist and can be listed$`),
    );
    expect(line(out, 'Tables')).toMatch(/^ok .*table ledger exists and can be queried$/);
    expect(line(out, 'Write probe (queue)')).toMatch(/^ok .*sent to events-inbound \(invisible\) and deleted/);
    expect(line(out, 'Write probe (blob)')).toMatch(/^ok .*written, read back and deleted/);
    expect(line(out, 'Write probe (table)')).toMatch(/^ok .*read back and deleted/);
    expect(line(out, 'Maskinporten key')).toMatch(/^ok .*RSA 2048 bits/);
    expect(line(out, 'Certificate validity')).toMatch(/^ok .*valid \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d/);
    expect(line(out, 'Maskinporten grant')).toMatch(/^ok .*granted "altinn:serviceowner\/instances.read/);
    expect(line(out, 'Altinn token exchange')).toMatch(/^ok .*an Altinn token for org ttd/);
    expect(line(out, 'App ttd/check-app')).toMatch(/^ok .*instance query answers/);
    expect(line(out, `Broker resource ${brokerResource}`)).toMatch(/^ok .*list answers/);
    expect(line(out, 'Subscription good (1)')).toMatch(
        /^ok .*validated; Altinn pushes good from http:\/\/127\.0\.0\.1:\d+\/ttd\/check-app to this deployment$/,
    );
    expect(out).toMatch(/^\d+ ok, 0 warning\(s\), 0 failed, in /m);
    // The probes left nothing behind.
    expect((await storage.queue(queues.eventsInbound).getProperties()).approximateMessagesCount).toBe(0);
});

it('answers JSON with --json: every check with its status, detail and duration', async () => {
    const out: string[] = [];
    const code = await runAos(['check', '--app-url', deployment.url, '--json'], {
        env,
        cwd: dir,
        out: (text) => out.push(text),
        err: () => undefined,
    });
    expect(code).toBe(0);
    const report = JSON.parse(out.join('\n')) as CheckReport;
    expect(report.summary.failed).toBe(0);
    expect(report.receiverUrls).toEqual([`${deployment.url}/api/eventsreceiver`]);
    for (const check of report.checks) {
        expect(check).toEqual(
            expect.objectContaining({ status: expect.stringMatching(/^(ok|warning|failed)$/) as string }),
        );
        expect(check.durationMs).toBeGreaterThanOrEqual(0);
        if (check.status !== 'ok') expect(check.action).toEqual(expect.any(String));
    }
});

it('fails on a missing queue, naming it', async () => {
    await storage.queue(queues.eventsFeedback).delete();
    try {
        const { code, out } = await aosCheck();
        expect(code).toBe(1);
        expect(line(out, `Queue ${queues.eventsFeedback}`)).toMatch(/^failed .*queue events-feedback does not exist$/);
        expect(todo(out, `Queue ${queues.eventsFeedback}`)).toMatch(/^what to do: create it: Bicep provisions it/);
        expect(line(out, 'Queues')).toMatch(
            new RegExp(`^ok .*the other ${Object.values(queues).length * 2 - 1} exist and can be read`),
        );
    } finally {
        await waitUntil(
            () =>
                storage
                    .queue(queues.eventsFeedback)
                    .createIfNotExists()
                    .then(
                        () => true,
                        () => undefined,
                    ),
            10_000,
            'the queue again',
        );
    }
});

it('fails on a key that does not match its certificate', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const key = `${other.export({ type: 'pkcs8', format: 'pem' }).toString()}${creds.certificatePem}`;
    const { code, out } = await aosCheck({ MaskinportenKey: key });
    expect(code).toBe(1);
    expect(line(out, 'Maskinporten key')).toMatch(
        /^failed .*Setting MaskinportenKey: the key has a certificate that does not match the private key/,
    );
    expect(todo(out, 'Maskinporten key')).toBe(
        'what to do: store the private key together with its own certificate in MaskinportenKey (inline, local development)',
    );
    // The grant and everything after it did not run.
    expect(out).not.toMatch(/Maskinporten grant/);
});

it("fails on a scope Maskinporten refuses, in Maskinporten's words", async () => {
    const { code, out } = await aosCheck({ MaskinportenScopes: [...scopes, 'altinn:broker.write'].join(' ') });
    expect(code).toBe(1);
    expect(line(out, 'Maskinporten grant')).toMatch(
        /^failed .*Maskinporten answered 400: invalid_scope: Token request contains invalid scopes for client, altinn:broker\.write \(trace_id: \w+\)/,
    );
    expect(todo(out, 'Maskinporten grant')).toMatch(/give Maskinporten client check-client the refused scope/);
});

it('fails on an app name Storage does not know, though its instance query answers an empty list', async () => {
    const { code, out } = await aosCheck({ CatchUpApps: 'ttd/check-app,ttd/chek-app' });
    expect(code).toBe(1);
    expect(line(out, 'App ttd/check-app')).toMatch(/^ok /);
    expect(line(out, 'App ttd/chek-app')).toMatch(
        /^failed .*Storage knows no app ttd\/chek-app \(its application metadata answered 404\)$/,
    );
    expect(todo(out, 'App ttd/chek-app')).toMatch(/^what to do: check the app name in CatchUpApps\/ReconcileApps/);
});

it('fails on a Broker resource Broker refuses, naming NoAccessToResource', async () => {
    const { code, out } = await aosCheck({ BrokerResources: `${brokerResource},ttd-not-ours` });
    expect(code).toBe(1);
    expect(line(out, `Broker resource ${brokerResource}`)).toMatch(/^ok /);
    expect(line(out, 'Broker resource ttd-not-ours')).toMatch(
        /^failed .*Broker refused resource ttd-not-ours with NoAccessToResource/,
    );
});

it('fails on a subscription Altinn has not validated', async () => {
    await sim.control.addFault({
        endpoint: 'delivery',
        eventType: 'platform.events.validatesubscription',
        pathContains: 'unvalidated',
        status: 503,
    });
    const id = await subscribe('unvalidated', `${deployment.url}/api/eventsreceiver?code=check-key&unvalidated`, false);
    try {
        const { code, out } = await aosCheck();
        expect(code).toBe(1);
        expect(line(out, `Subscription unvalidated (${id})`)).toMatch(
            new RegExp(`^failed .*Altinn has not validated subscription ${id} \\(created `),
        );
        expect(line(out, 'Subscription good (1)')).toMatch(/^ok /);
    } finally {
        await sim.control.clearFaults();
        await removeSubscription(deps, id);
    }
});

it('fails on a subscription that pushes to another deployment', async () => {
    const id = await subscribe('elsewhere', `${elsewhere.url}/api/eventsreceiver?code=other-key`);
    try {
        const { code, out } = await aosCheck();
        expect(code).toBe(1);
        expect(line(out, `Subscription elsewhere (${id})`)).toContain(`failed   Subscription elsewhere (${id})`);
        expect(line(out, `Subscription elsewhere (${id})`)).toContain(
            `Altinn pushes subscription ${id} to ${elsewhere.url}/api/eventsreceiver?code=***, not to this deployment (${deployment.url}/api/eventsreceiver)`,
        );
    } finally {
        await removeSubscription(deps, id);
    }
});

it('warns when recovery is off, and names every wrong setting at once', async () => {
    const recovery = await aosCheck({ CatchUpApps: '' });
    expect(line(recovery.out, 'Recovery (catch-up and reconciliation)')).toMatch(
        /^warning .*recovery is off: neither CatchUpApps nor ReconcileApps is set/,
    );
    const wrong = await aosCheck({ DownloadConcurrency: 'many', CatchUpSchedule: 'hourly', AltinnTestMode: 'perhaps' });
    expect(wrong.code).toBe(1);
    expect(line(wrong.out, 'Settings')).toMatch(/^failed .*3 setting\(s\) wrong: /);
    for (const name of ['DownloadConcurrency', 'CatchUpSchedule', 'AltinnTestMode']) {
        expect(line(wrong.out, `Setting ${name}`)).toMatch(/^failed /);
    }
    // Altinn is not asked with settings that do not parse; storage still is.
    expect(wrong.out).not.toMatch(/Maskinporten grant/);
    expect(line(wrong.out, 'Queues')).toMatch(/^ok /);
});
