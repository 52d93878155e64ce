import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { chromium, type BrowserContext } from 'playwright-core';
import type { Simulator } from '../../../dev/simulator/simulator';
import { ledgerOf, sentFileSubject } from '../../../shared/ledger';
import { queues } from '../../../shared/names';
import { createStorage, type Storage } from '../../../shared/storage';
import type { StatusReport } from '../../../shared/status';
import { runAos } from '../../../tools/aos';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { chromiumExecutable } from '../../support/chromium';
import { repoRoot, startHostProcess, type HostProcess } from '../../support/host';
import {
    clientRegistration,
    clientSettings,
    createClientCredentials,
    startTestSimulator,
    waitUntil,
} from '../../support/simulator';
import { ME } from '../broker/harness';
import { RECIPIENT_A, RECIPIENT_B, SEND_RESOURCE, SEND_SCOPES } from './harness';

/*
 * Sending as deployed: the project's functions in the local host, the sender's subscription
 * (docs/examples/broker-sender-subscription.json) registered and validated through the webhook, a
 * file sent with `aos broker send`, BrokerSender uploading it, Broker's events to us as sender
 * pushed to EventsReceiver and followed by BrokerProcessor, two recipients confirming; then the
 * status JSON and the page in Chromium say "confirmed 2/2". Needs `npm run build`.
 */

jest.setTimeout(120_000);

const chromiumPath = chromiumExecutable();
const key = 'send-host-test-key';

let azurite: AzuriteInstance;
let sim: Simulator;
let host: HostProcess;
let storage: Storage;
let dir: string;

beforeAll(async () => {
    [azurite, sim] = await Promise.all([
        startAzurite(),
        startTestSimulator({ orgNumber: ME, brokerResources: [SEND_RESOURCE] }),
    ]);
    const creds = createClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, SEND_SCOPES));
    host = await startHostProcess({
        appRoot: repoRoot,
        env: {
            AzureWebJobsStorage: azurite.connectionString,
            ...clientSettings(sim, creds, SEND_SCOPES),
            LocalHostFunctionKey: key,
            CatchUpApps: '',
            BrokerResources: '',
            CatchUpSchedule: '0 0 0 1 1 *',
            ReconcileSchedule: '0 0 0 1 1 *',
            SubscriptionsSchedule: '*/1 * * * * *',
            HttpRetryBudgetSeconds: '2',
            AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.500',
        },
    });
    storage = createStorage({ AzureWebJobsStorage: azurite.connectionString });
    dir = mkdtempSync(join(tmpdir(), 'aos-send-host-'));
});

afterAll(async () => {
    await host?.stop(10_000);
    await Promise.all([sim?.stop(), azurite?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
});

async function sentState(id: string): Promise<string | undefined> {
    const entry = await ledgerOf(storage).get(sentFileSubject(SEND_RESOURCE, id));
    return entry?.sent
        ? `${entry.sent.state} ${entry.sent.confirmedRecipients}/${entry.sent.recipients.length}`
        : undefined;
}

test('a file sent to two recipients ends "confirmed 2/2" in the ledger, the status JSON and the page', async () => {
    const example = readFileSync(join(repoRoot, 'docs', 'examples', 'broker-sender-subscription.json'), 'utf8')
        .replace(
            'https://<function app>.azurewebsites.net/api/eventsreceiver?code=<EventsReceiver function key>',
            `${host.url}/api/eventsreceiver?code=${key}`,
        )
        .replace('<Broker resource id we send on>', SEND_RESOURCE)
        .replace('<our organisation number>', ME);
    expect(example).not.toMatch(/[<>]/);
    const add = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
        'add-subscriptions',
    );
    await add.createIfNotExists();
    await add.getBlockBlobClient('sending.json').upload(example, Buffer.byteLength(example));
    await waitUntil(
        async () => ((await sim.control.listSubscriptions()).some((s) => s.validated) ? true : undefined),
        30_000,
        'the sender subscription validated through the webhook',
    );

    writeFileSync(join(dir, 'vedtak.pdf'), '%PDF-1.7\nvedtak\n'.repeat(2000));
    const out: string[] = [];
    const code = await runAos(
        [
            'broker',
            'send',
            'vedtak.pdf',
            '--resource',
            SEND_RESOURCE,
            '--recipient',
            RECIPIENT_A,
            '--recipient',
            RECIPIENT_B,
            '--json',
        ],
        {
            env: { AzureWebJobsStorage: azurite.connectionString },
            cwd: dir,
            out: (line) => out.push(line),
            err: (line) => out.push(line),
        },
    );
    expect(code).toBe(0);
    const { blob } = JSON.parse(out.join('\n')) as { blob: string };

    const transfer = await waitUntil(
        async () => (await sim.control.listFileTransfers()).find((t) => t.fileTransferStatus === 'Published'),
        30_000,
        'BrokerSender to upload it and Broker to publish it',
    );
    const id = transfer.fileTransferId as string;
    // Broker's published to us as sender came through the webhook: the ledger knows.
    await waitUntil(async () => ((await sentState(id)) === 'published 0/2' ? true : undefined), 30_000, 'published');

    await sim.control.recipientConfirms(id, RECIPIENT_A);
    await waitUntil(
        async () => ((await sentState(id)) === 'published 1/2' ? true : undefined),
        30_000,
        'one confirmed',
    );
    await sim.control.recipientConfirms(id, RECIPIENT_B);
    await waitUntil(
        async () => ((await sentState(id)) === 'confirmed 2/2' ? true : undefined),
        30_000,
        'both confirmed',
    );

    const handedBack = await waitUntil(
        async () => {
            const queue = storage.queue(queues.brokerSent);
            if (!(await queue.exists())) return undefined;
            const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
            return peekedMessageItems.length > 0 ? peekedMessageItems : undefined;
        },
        30_000,
        'the hand-back message',
    );
    expect(handedBack).toHaveLength(1);

    const report = (await (await fetch(`${host.url}/api/status?code=${key}`)).json()) as StatusReport;
    expect(report.sentFiles).toEqual([
        expect.objectContaining({ fileTransferId: id, blob, progress: 'confirmed 2/2', final: true }),
    ]);
    expect(report.sentResources).toEqual([
        expect.objectContaining({ resourceId: SEND_RESOURCE, confirmed: 1, open: 0 }),
    ]);

    const profile = mkdtempSync(join(tmpdir(), 'aos-chromium-'));
    let browser: BrowserContext | undefined;
    try {
        browser = await chromium.launchPersistentContext(profile, {
            executablePath: chromiumPath,
            headless: true,
            args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
        });
        const page = browser.pages()[0] ?? (await browser.newPage());
        const response = await page.goto(`${host.url}/api/status?code=${key}`);
        expect(response?.status()).toBe(200);
        const row = page.locator('#sent-files tbody tr', { hasText: id });
        expect(await row.count()).toBe(1);
        const cells = await row.locator('td').allInnerTexts();
        expect([cells[0], cells[1], cells[2], cells[4]]).toEqual([id, SEND_RESOURCE, blob, 'confirmed 2/2']);
        const resource = await page.locator('#sent tbody tr', { hasText: SEND_RESOURCE }).locator('td').allInnerTexts();
        expect(resource.slice(0, 7)).toEqual([SEND_RESOURCE, '0', '0', '0', '1', '0', '0']);
    } finally {
        await browser?.close();
        rmSync(profile, { recursive: true, force: true });
    }
});
