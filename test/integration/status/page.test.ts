import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Simulator } from '../../../dev/simulator/simulator';
import type { CreatedInstance } from '../../../dev/simulator/types';
import { containers } from '../../../shared/names';
import type { StatusReport } from '../../../shared/status';
import { subscriptionCheckBlob } from '../../../shared/subscriptions';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { chromiumExecutable } from '../../support/chromium';
import { repoRoot, startHostProcess, type HostProcess } from '../../support/host';
import {
    clientRegistration,
    clientSettings,
    createClientCredentials,
    SERVICEOWNER_SCOPES,
    startTestSimulator,
    waitUntil,
} from '../../support/simulator';

/*
 * The status page as an operator sees it: the project's functions in the local host over real
 * HTTP, Azurite and the Altinn simulator, data put there the way it arrives (a subscription
 * registered and validated by Altinn, an instance pushed through the webhook and the pipeline, an
 * event that fails into the poison queue, a subscription request Altinn refuses), and the page
 * opened in headless Chromium (Debian's chromium, which .ci/run installs where missing, or CHROMIUM_PATH).
 */

jest.setTimeout(120_000);

// Checked first, so that a machine without Chromium fails in one line before anything starts.
const chromiumPath = chromiumExecutable();
const key = 'status-page-test-key';
const brokerResource = 'aos-status-broker';
const orgNumber = '405003309';
const scopes = [...SERVICEOWNER_SCOPES, 'altinn:events.subscribe'];

let azurite: AzuriteInstance;
let sim: Simulator;
let host: HostProcess;
let browser: BrowserContext;
let profile: string;
let page: Page;
let good: CreatedInstance;
let poisoned: CreatedInstance;
let neverConfirmed: { fileTransferId: string };

const blobs = () => BlobServiceClient.fromConnectionString(azurite.connectionString);

async function putBlob(container: string, name: string, value: unknown): Promise<void> {
    const client = blobs().getContainerClient(container);
    await client.createIfNotExists();
    const text = JSON.stringify(value);
    await client.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
}

async function blobExists(container: string, name: string): Promise<true | undefined> {
    return (await blobs().getContainerClient(container).getBlobClient(name).exists()) ? true : undefined;
}

/** Runs a timer function now, as the host's admin API does. */
async function runFunction(name: string): Promise<void> {
    const response = await fetch(`${host.url}/admin/functions/${name}?code=${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: '' }),
    });
    expect(response.status).toBe(202);
}

async function postEvent(event: unknown): Promise<void> {
    const response = await fetch(`${host.url}/api/eventsreceiver?code=${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(event),
    });
    expect(response.status).toBe(200);
}

beforeAll(async () => {
    [azurite, sim] = await Promise.all([startAzurite(), startTestSimulator({ org: 'ttd', orgNumber })]);
    const creds = createClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, scopes));
    host = await startHostProcess({
        appRoot: repoRoot,
        env: {
            AzureWebJobsStorage: azurite.connectionString,
            ...clientSettings(sim, creds, scopes),
            LocalHostFunctionKey: key,
            HttpRetryBudgetSeconds: '1',
            CatchUpApps: 'ttd/apps-test',
            BrokerResources: brokerResource,
            CatchUpSchedule: '0 0 0 1 1 *',
            SubscriptionsSchedule: '0 0 0 1 1 *',
            ReconcileSchedule: '0 0 0 1 1 *',
            AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '1',
            AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.500',
        },
    });

    // A subscription Altinn registers and validates through the webhook, and one it refuses.
    await putBlob(containers.addSubscriptions, 'ttd-apps-test.json', {
        endPoint: `${host.url}/api/eventsreceiver?code=${key}`,
        sourceFilter: `${sim.appsUrl}/ttd/apps-test`,
        typeFilter: 'app.instance.process.completed',
    });
    await putBlob(containers.addSubscriptions, 'wrong-source.json', {
        endPoint: `${host.url}/api/eventsreceiver?code=${key}`,
        sourceFilter: 'https://elsewhere.example/ttd/apps-test',
        typeFilter: 'app.instance.process.completed',
    });
    await runFunction('EventsSubscriber');
    await waitUntil(() => blobExists(containers.failedSubscriptions, 'wrong-source.json'), 15_000, 'the refusal');
    await waitUntil(
        async () => ((await sim.control.listSubscriptions())[0]?.validated ? true : undefined),
        15_000,
        'Altinn validating the subscription',
    );
    // A quiet run: the self-check compares with Altinn.
    await runFunction('EventsSubscriber');
    await waitUntil(() => blobExists(containers.state, subscriptionCheckBlob), 15_000, 'the self-check');

    // An instance Altinn pushes to the webhook, stored and confirmed by the pipeline.
    good = await sim.control.createInstance({
        app: 'apps-test',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'model', content: '<form/>' }],
    });
    await waitUntil(() => (sim.counters().completes[good.id] ? true : undefined), 30_000, 'the complete');

    // An instance whose download always fails: after maxDequeueCount (1) its event is in events-inbound-poison.
    await sim.control.addFault({ endpoint: 'apps.getInstance', pathContains: '/apps-poison/', status: 500 });
    poisoned = await sim.control.createInstance({
        app: 'apps-poison',
        process: 'completed',
        publish: true, // no subscription matches this app: the test delivers the event to the webhook itself
        dataElements: [{ dataType: 'model', content: '<form/>' }],
    });
    await postEvent(poisoned.events[0]);
    await host.waitForOutput(/Moving message to queue 'events-inbound-poison'/, 30_000);

    // A Broker file that expired in Broker unconfirmed: the event Broker sends the recipient at expiry
    // (altinn-broker's PurgeFileTransferHandler), delivered to the webhook.
    neverConfirmed = await sim.control.createFileTransfer({
        resourceId: brokerResource,
        fileName: 'søknad.pdf',
        recipients: [orgNumber],
        sender: '991825827',
        size: 10,
    });
    const published = (await sim.control.listEvents()).find(
        (event) =>
            event.resourceinstance === neverConfirmed.fileTransferId &&
            event.type === 'no.altinn.broker.published' &&
            (event.data as { Role?: string } | undefined)?.Role === 'Recipient',
    );
    await postEvent({ ...published, id: randomUUID(), type: 'no.altinn.broker.fileneverconfirmeddownloaded' });
    await host.waitForOutput(/step=broker-never-confirmed /, 30_000);

    // A reconciliation and a catch-up run for ttd/apps-test, recorded for the page.
    const mark = host.output().length;
    await runFunction('InstancesReconcile');
    await runFunction('EventsCatchUp');
    await host.waitForOutput(/step=reconcile-run app=ttd\/apps-test /, 30_000, mark);
    await host.waitForOutput(/Executed 'Functions\.EventsCatchUp' \(Succeeded/, 30_000, mark);

    profile = mkdtempSync(join(tmpdir(), 'aos-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
        executablePath: chromiumPath,
        headless: true,
        args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
        ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
});

afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await host?.stop(10_000);
    await Promise.all([sim?.stop(), azurite?.stop()]);
});

/** The cells of the table row that contains `text`, as a person reads them. */
async function row(tableId: string, text: string): Promise<string[]> {
    const found = page.locator(`#${tableId} tbody tr`, { hasText: text });
    expect(await found.count()).toBe(1);
    return found.locator('td').allInnerTexts();
}

it('answers only with the function key', async () => {
    expect((await fetch(`${host.url}/api/status`)).status).toBe(401);
    expect((await fetch(`${host.url}/api/status?code=wrong`)).status).toBe(401);
});

it('shows in a browser what was received, what failed and the subscriptions', async () => {
    const response = await page.goto(`${host.url}/api/status?code=${key}`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(await page.title()).toBe('Status – Altinn application owner system');

    // What needs a person, in words at the top.
    const attention = page.locator('#attention');
    await expect(attention.locator('h2').innerText()).resolves.toBe('Needs attention');
    const notes = await attention.locator('li').allInnerTexts();
    expect(notes).toEqual(
        expect.arrayContaining([
            '1 message(s) in events-inbound-poison: see npm run aos -- poison list',
            expect.stringMatching(/^Subscription request wrong-source was refused: /),
        ]),
    );

    // The instance that went through: received, stored and confirmed in the last 24 h, nothing waiting.
    const [app, received, stored, confirmed, unconfirmed] = await row('apps', 'ttd/apps-test');
    expect([app, received, stored, confirmed, unconfirmed]).toEqual(['ttd/apps-test', '1', '1', '1', '0']);
    // The one that failed: received, not stored or confirmed, in poison.
    const failed = await row('apps', 'ttd/apps-poison');
    expect(failed.slice(0, 5)).toEqual(['ttd/apps-poison', '1', '0', '0', '1']);
    expect(failed[6]).toBe(poisoned.id.toLowerCase());
    expect(failed[7]).toBe('1');

    // The runs: reconciliation found nothing unconfirmed (the one instance is confirmed), catch-up found its event.
    const reconciliation = await row('runs', 'Reconciliation');
    expect(reconciliation[1]).toBe('ttd/apps-test');
    expect(reconciliation[2]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect([reconciliation[3], reconciliation[4], reconciliation[7]]).toEqual(['0', '0', 'OK']);
    const catchUp = await row('runs', 'Catch-up');
    expect([catchUp[1], catchUp[3], catchUp[4], catchUp[7]]).toEqual(['ttd/apps-test', '1', '1', 'OK']);
    const [cursorApp, moved, after] = await row('catch-up-cursors', 'ttd/apps-test');
    expect([cursorApp, after]).toEqual(['ttd/apps-test', good.events[0].id]);
    expect(moved).toMatch(/ UTC$/);

    // The Broker file Broker purged without our confirmation, said at the top and listed with its resource.
    expect(notes).toContainEqual(
        expect.stringMatching(
            new RegExp(`^Broker file ${neverConfirmed.fileTransferId} \\(${brokerResource}\\) expired in Broker at `),
        ),
    );
    const purged = await row('broker-never-confirmed', neverConfirmed.fileTransferId);
    expect([purged[0], purged[1], purged[3], purged[4]]).toEqual([
        neverConfirmed.fileTransferId,
        brokerResource,
        'no',
        'no',
    ]);
    expect(purged[2]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);

    expect(await row('poison', 'events-inbound-poison')).toEqual(['events-inbound-poison', '1']);
    expect(await row('poison', 'events-confirmation-poison')).toEqual(['events-confirmation-poison', '0']);

    const [name, id, filter, type, inAltinn, problem] = await row('subscriptions-active', 'ttd-apps-test');
    const [subscription] = await sim.control.listSubscriptions();
    expect([name, id, filter, type, inAltinn, problem]).toEqual([
        'ttd-apps-test',
        String(subscription.id),
        `${sim.appsUrl}/ttd/apps-test`,
        'app.instance.process.completed',
        'validated',
        '–',
    ]);
    const refused = await row('subscriptions-failed', 'wrong-source');
    expect(refused[1]).toBe('add');
    expect(refused[3]).toMatch(/sourceFilter/);
    await expect(page.locator('#subscriptions-checked').innerText()).resolves.toMatch(/^Checked with Altinn \d{4}-/);

    // The function key never reaches the page.
    expect(await page.content()).not.toContain(key);

    const screenshot = join(tmpdir(), 'aos-status-page.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`status page screenshot: ${screenshot}`);
});

it('answers the same as JSON by default, and refuses an unknown format', async () => {
    const response = await fetch(`${host.url}/api/status?code=${key}`);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const report = (await response.json()) as StatusReport;
    expect(report.poisonQueues).toContainEqual({
        queue: 'events-inbound',
        poisonQueue: 'events-inbound-poison',
        messages: 1,
    });
    expect(report.apps.find((scope) => scope.scope === 'ttd/apps-test')).toMatchObject({
        received: 1,
        stored: 1,
        confirmed: 1,
        unconfirmed: 0,
    });
    expect(report.subscriptions.failed.map((failed) => failed.name)).toEqual(['wrong-source']);
    expect(JSON.stringify(report)).not.toContain(key);

    const html = await fetch(`${host.url}/api/status?code=${key}&format=html`);
    expect(html.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(await html.text()).toMatch(/^<!doctype html>/);
    expect((await fetch(`${host.url}/api/status?code=${key}&format=xml`)).status).toBe(400);
});
