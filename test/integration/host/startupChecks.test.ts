import { join } from 'node:path';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { repoRoot, runHostUntilExit, startHostProcess, type HostProcess } from '../../support/host';
import { fixtureApp } from './fixture';

/*
 * What the app and the host say at start-up, for the operator and the alerts (issue 20 items 6 and
 * 8): the project's own app, run by the local host, warns in its first invocation when the
 * instance memory (InstanceMemoryMB, as Bicep sets it) cannot hold the worst case of host.json's
 * queue concurrency and DownloadConcurrency; and a host that cannot start prints the real host's
 * start-up error line, which the host-start-failed alert matches. Needs `npm run build` first.
 */

jest.setTimeout(60_000);

let azurite: AzuriteInstance;

const settings = (memory: string) => ({
    AzureWebJobsStorage: azurite.connectionString,
    AltinnPlatformBaseUrl: 'http://127.0.0.1:9',
    AltinnAppsBaseUrl: 'http://127.0.0.1:9',
    MaskinportenBaseUrl: 'http://127.0.0.1:9',
    MaskinportenClientId: 'memory-check',
    MaskinportenScopes: 'altinn:serviceowner/instances.read',
    MaskinportenKey: 'not used: no token is asked for',
    MaskinportenKeyVaultUri: '',
    CatchUpSchedule: '0 0 0 1 1 *',
    ReconcileSchedule: '0 0 0 1 1 *',
    SubscriptionsSchedule: '0 0 0 1 1 *',
    HandoffWatchSchedule: '0 0 0 1 1 *',
    InstanceMemoryMB: memory,
});

async function firstInvocation(memory: string): Promise<string> {
    const host: HostProcess = await startHostProcess({ appRoot: repoRoot, env: settings(memory) });
    try {
        const response = await fetch(`${host.url}/api/status?format=json`);
        expect(response.status).toBe(200);
        await host.waitForOutput(/step=memory-(short|fits) /);
        // Once per process: a second invocation says nothing more.
        await fetch(`${host.url}/api/status?format=json`);
        return host.output();
    } finally {
        await host.stop(10_000);
    }
}

beforeAll(async () => {
    azurite = await startAzurite();
});

afterAll(async () => {
    await azurite?.stop();
});

test('the first invocation warns that 512 MB cannot hold the default concurrency, once', async () => {
    const output = await firstInvocation('512');
    const lines = output.split('\n').filter((line) => /step=memory-/.test(line));
    expect(lines).toEqual([
        expect.stringMatching(
            /step=memory-short instanceMemoryMB=512 worstCaseMiB=\d+ batchSize=16 newBatchThreshold=4 downloadConcurrency=16 /,
        ),
    ]);
});

test('with 2048 MB it says the worst case fits', async () => {
    const output = await firstInvocation('2048');
    expect(output).toMatch(/step=memory-fits instanceMemoryMB=2048 /);
    expect(output).not.toContain('step=memory-short');
});

test("a host that cannot start prints the Functions host's start-up error, which the host-start-failed alert matches", async () => {
    const result = await runHostUntilExit({
        appRoot: join(fixtureApp, 'no-main-match'),
        env: { AzureWebJobsStorage: azurite.connectionString },
    });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/^A host error has occurred during startup operation '[0-9a-f-]{36}'\.$/m);
});
