import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { provisionStorage } from '../../../dev/provisionStorage';
import { type Simulator } from '../../../dev/simulator/simulator';
import { createAltinnStack, type AltinnStack } from '../../../shared/altinn';
import { createEventsApi } from '../../../shared/altinn/events';
import { loadConfig } from '../../../shared/config';
import { createStorage } from '../../../shared/storage';
import { addSubscription } from '../../../shared/subscriptions';
import { runAos } from '../../../tools/aos';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { repoRoot, startHostProcess, type HostProcess } from '../../support/host';
import {
    clientRegistration,
    clientSettings,
    createClientCredentials,
    startTestSimulator,
    waitUntil,
} from '../../support/simulator';

/*
 * The deployment checked and proven end to end, the way an operator does it after `azd up`, with
 * the local host standing in for the function app: `aos check --url` asks its /api/check, and
 * `aos smoke` creates an instance through the app API, uploads a file, moves the process to its
 * end and follows the instance through /api/status until it is stored, confirmed and handed off.
 */

jest.setTimeout(180_000);

const functionKey = 'smoke-function-key';
const scopes = ['altinn:serviceowner/instances.read', 'altinn:serviceowner/instances.write'];

let azurite: AzuriteInstance;
let sim: Simulator;
let host: HostProcess;
let stack: AltinnStack;
let env: Record<string, string>;
let dir: string;
let dataFile: string;

beforeAll(async () => {
    const creds = createClientCredentials('smoke-client');
    [azurite, sim] = await Promise.all([
        startAzurite(),
        startTestSimulator({
            org: 'ttd',
            apps: [
                { app: 'smoke-app', dataTypes: [{ id: 'model', allowedContentTypes: ['application/xml'] }] },
                { app: 'signed-app', tasks: ['Task_1', { id: 'Task_2', type: 'signing' }] },
                { app: 'confirmed-app', tasks: ['Task_1', { id: 'Task_2', type: 'confirmation' }] },
            ],
        }),
    ]);
    await sim.control.registerClient(clientRegistration(creds, scopes));
    env = {
        AzureWebJobsStorage: azurite.connectionString,
        ...clientSettings(sim, creds, scopes),
        CatchUpApps: 'ttd/smoke-app',
        HttpRetryBudgetSeconds: '1',
        CatchUpSchedule: '0 0 0 1 1 *',
        ReconcileSchedule: '0 0 0 1 1 *',
        SubscriptionsSchedule: '0 0 0 1 1 *',
    };
    await provisionStorage(createStorage(env));
    host = await startHostProcess({
        appRoot: repoRoot,
        env: { ...env, LocalHostFunctionKey: functionKey },
        startTimeoutMs: 90_000,
    });
    // The subscription an owner registers after deploying: completed instances of the app, pushed to this host.
    const config = loadConfig(env);
    stack = createAltinnStack(config);
    const deps = { config, storage: createStorage(env), events: createEventsApi(stack.http, config) };
    const request = {
        endPoint: `${host.url}/api/eventsreceiver?code=${functionKey}`,
        sourceFilter: `${sim.appsUrl}/ttd/smoke-app`,
        typeFilter: 'app.instance.process.completed',
    };
    const { subscription } = await addSubscription(deps, 'smoke-app', JSON.stringify(request));
    await waitUntil(
        async () =>
            (await sim.control.listSubscriptions()).find((s) => s.id === subscription.id)?.validated ? true : undefined,
        20_000,
        'the subscription validated',
    );
    dir = mkdtempSync(join(tmpdir(), 'aos-smoke-'));
    dataFile = join(dir, 'smoke.xml');
    writeFileSync(dataFile, '<?xml version="1.0"?><smoke>from aos smoke</smoke>');
});

afterAll(async () => {
    await stack?.close();
    await host?.stop(10_000);
    await Promise.all([sim?.stop(), azurite?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
});

async function aos(args: string[], extraEnv: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAos(args, {
        env: { ...env, ...extraEnv },
        cwd: dir,
        out: (line) => out.push(line),
        err: (line) => err.push(line),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
}

const smokeArgs = (app: string) => ['smoke', '--app', app, '--file', dataFile, '--data-type', 'model'];

it('aos check --url: the deployed app checks itself, subscription included', async () => {
    const { code, out, err } = await aos(['check', '--url', host.url, '--key', functionKey]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^ok\s+Maskinporten grant\s/m);
    expect(out).toMatch(
        /^ok\s+Subscription smoke-app \(1\)\s.*validated; Altinn pushes app\.instance\.process\.completed from .* to this deployment$/m,
    );
    // The key is required, as for every function of auth level function.
    const refused = await aos(['check', '--url', host.url, '--key', 'wrong']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/refused the function key \(401\)/);
});

it('/api/check answers a page for a browser', async () => {
    const response = await fetch(`${host.url}/api/check?format=html`, { headers: { 'x-functions-key': functionKey } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await response.text();
    expect(page).toMatch(/<p id="verdict">[^<]*: \d+ ok, \d+ warning\(s\), 0 failed/);
    expect(page).toContain('<td>Maskinporten grant</td>');
});

it('aos smoke runs one instance to confirmed and handed off', async () => {
    const { code, out, err } = await aos([...smokeArgs('ttd/smoke-app'), '--url', host.url, '--key', functionKey]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const steps = out
        .split('\n')
        .slice(1)
        .map((line) => /^\+\s*\d+\.\d s {2}(\S+(?: \S+)?)\s/.exec(line)?.[1]);
    expect(steps).toEqual([
        'token',
        'instantiated',
        'uploaded',
        'process',
        'seen',
        'stored',
        'confirmed',
        'handed off',
    ]);
    const id = /instantiated\s+(\d+\/[0-9a-f-]{36}) for organisation \d{9}, at Task_1 \(data\)/.exec(out)?.[1];
    expect(id).toBeDefined();
    expect(out).toMatch(/uploaded\s+smoke\.xml as model \(application\/xml, \d+ bytes\)/);
    expect(out).toMatch(/stored\s+1 element\(s\), 50 bytes in blob storage/);
    expect(sim.counters().completes[id!]).toBe(1);
    const guid = id!.split('/')[1];
    const inbound = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('inbound');
    expect(await inbound.getBlobClient(`ttd/smoke-app/${guid}/instance.json`).exists()).toBe(true);
    // The status API answers the same instance by id.
    const status = await fetch(`${host.url}/api/status?id=${id}`, { headers: { 'x-functions-key': functionKey } });
    expect(status.status).toBe(200);
    const body = (await status.json()) as { entries: { confirmed: boolean; handedOffAt?: string }[] };
    expect(body.entries[0]).toMatchObject({ confirmed: true, handedOffAt: expect.any(String) as string });
});

it('aos smoke stops cleanly where the process needs a person', async () => {
    const signing = await aos([...smokeArgs('ttd/signed-app'), '--url', host.url, '--key', functionKey]);
    expect(signing.code).toBe(3);
    expect(signing.out).toMatch(
        /needs person\s+the task needs signatures, which only the signees can give .*MissingSignatures/,
    );
    expect(signing.out).toMatch(/stopped\s+the instance \d+\/[0-9a-f-]{36} stays in Altinn at that task/);
    const confirming = await aos([...smokeArgs('ttd/confirmed-app'), '--url', host.url, '--key', functionKey]);
    expect(confirming.code).toBe(3);
    expect(confirming.out).toMatch(
        /needs person\s+the org may not move past this task, a person must: User is not authorized to perform process next\. Task ID: Task_2\. Task type: confirmation\./,
    );
});

it('aos smoke refuses a production URL before calling anything', async () => {
    const before = sim.counters().grantsIssued;
    const production = await aos(smokeArgs('ttd/smoke-app'), {
        AltinnPlatformBaseUrl: 'https://platform.altinn.no',
        AltinnAppsBaseUrl: 'https://ttd.apps.altinn.no',
        MaskinportenBaseUrl: 'https://maskinporten.no',
    });
    expect(production.code).toBe(1);
    expect(production.err).toBe(
        'Refused: AltinnPlatformBaseUrl https://platform.altinn.no is Altinn production: aos smoke runs only in at22, at23, at24, tt02, yt01 or against a local simulator.',
    );
    const unknown = await aos(smokeArgs('ttd/smoke-app'), { AltinnAppsBaseUrl: 'https://apps.example.com' });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(
        /AltinnAppsBaseUrl https:\/\/apps\.example\.com is not a known Altinn test environment/,
    );
    expect(sim.counters().grantsIssued).toBe(before);
});
