/**
 * Two instances of one app on one storage, as Flex Consumption runs them: queue messages are
 * shared out and each handled once, a timer fires once per occurrence across both (its listener is
 * a singleton under the host id), the blob scan runs on one instance, and when the instance holding
 * a timer stops, the other one takes the timer over.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { startHostProcess, type HostProcess } from '../../support/host';
import { base64, fixtureApp, fixtureEvents, sleep, type FixtureEvent } from './fixture';

jest.setTimeout(120_000);

const hostId = 'two-hosts-fixture';
/** Recorded before start: StartupTimer (a yearly schedule, so monitored) missed an occurrence an hour ago. */
const missed = { Last: '2026-01-01T00:00:00.000Z', Next: new Date(Date.now() - 3_600_000).toISOString() };

let azurite: AzuriteInstance;
let hosts: HostProcess[];

beforeAll(async () => {
    azurite = await startAzurite();
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const hostsContainer = blobs.getContainerClient('azure-webjobs-hosts');
    await hostsContainer.createIfNotExists();
    const status = JSON.stringify({ ...missed, LastUpdated: missed.Last });
    await hostsContainer
        .getBlockBlobClient(`timers/${hostId}/Host.Functions.StartupTimer/status`)
        .upload(status, status.length);
    const env = {
        AzureWebJobsStorage: azurite.connectionString,
        AzureFunctionsWebHost__hostid: hostId,
        TickerSchedule: '*/2 * * * * *',
        // The shortest lease and recovery polling the host allows, so that a take-over comes within 15 s.
        AzureFunctionsJobHost__singleton__listenerLockPeriod: '00:00:15',
        AzureFunctionsJobHost__singleton__listenerLockRecoveryPollingInterval: '00:00:15',
    };
    hosts = await Promise.all([
        startHostProcess({ appRoot: fixtureApp, env }),
        startHostProcess({ appRoot: fixtureApp, env }),
    ]);
});

afterAll(async () => {
    await Promise.all((hosts ?? []).map((host) => host.stop()));
    await azurite?.stop();
});

function eventsOf(fn: string): FixtureEvent[][] {
    return hosts.map((host) => fixtureEvents(host.output(), fn));
}

async function waitUntil(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
        if (Date.now() > deadline)
            throw new Error(`Timed out waiting for ${what}:\n${hosts.map((h) => h.output()).join('\n-----\n')}`);
        await sleep(100);
    }
}

/** The scheduled second of each Ticker run (the fixture logs Date.now() at the start of the run). */
function tickerSeconds(events: FixtureEvent[]): number[] {
    return events.map((event) => Math.floor(Number(event.at) / 1000));
}

test('both instances share the host id, each has its own instance id, and one holds the primary host lock', async () => {
    const started = hosts.map((host) => /Starting Host \(HostId=([^,]+), InstanceId=([0-9A-F]+),/.exec(host.output()));
    expect(started.map((match) => match?.[1])).toEqual([hostId, hostId]);
    expect(started[0]?.[2]).not.toBe(started[1]?.[2]);
    const primary = /Host lock lease acquired by instance ID '([0-9A-F]+)'/;
    await waitUntil('the primary host lock', () => hosts.some((host) => primary.test(host.output())), 20_000);
    await sleep(6_000); // another attempt of the other instance (every 5 s) must fail
    const holders = hosts.filter((host) => primary.test(host.output()));
    expect(holders).toHaveLength(1);
    expect(primary.exec(holders[0].output())?.[1]).toBe(started[hosts.indexOf(holders[0])]?.[2]);
});

test('a timer fires once per occurrence across both instances; a missed monitored occurrence runs once, past due', async () => {
    await waitUntil('six Ticker runs', () => eventsOf('Ticker').flat().length >= 6);
    const [first, second] = eventsOf('Ticker');
    // One instance holds the timer's lock and runs every occurrence; the other runs none.
    expect(Math.min(first.length, second.length)).toBe(0);
    const seconds = tickerSeconds([...first, ...second]);
    expect(new Set(seconds).size).toBe(seconds.length);
    expect(seconds.every((second) => second % 2 === 0)).toBe(true);

    const startup = eventsOf('StartupTimer').flat();
    expect(startup).toHaveLength(1);
    const timer = startup[0].timer as { isPastDue: boolean; scheduleStatus: { last: string } };
    expect(timer.isPastDue).toBe(true);
    expect(timer.scheduleStatus.last).toBe(missed.Last);
});

test('queue messages are shared out between the instances and each is handled once', async () => {
    const queue = new QueueClient(azurite.connectionString, 'concurrency');
    const count = 24;
    // Each takes 300 ms; one instance runs at most batchSize + newBatchThreshold (6) at once.
    for (let n = 0; n < count; n++) await queue.sendMessage(base64(JSON.stringify({ n, ms: 300 })));
    await waitUntil('every message handled', () => eventsOf('QueueConcurrency').flat().length >= count);
    await sleep(2_000);
    const perHost = eventsOf('QueueConcurrency');
    const handled = perHost.flat().map((event) => Number(event.n));
    expect(handled.sort((a, b) => a - b)).toEqual([...Array(count).keys()]);
    expect(perHost.every((events) => events.length > 0)).toBe(true);
});

test('a blob version triggers once across both instances (the blob scan is a singleton)', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('uploads');
    await container.createIfNotExists();
    const names = ['one', 'two', 'three'];
    for (const name of names) {
        const text = JSON.stringify({ name });
        await container.getBlockBlobClient(`${name}.json`).upload(text, text.length);
    }
    await waitUntil('three blob runs', () => eventsOf('BlobRecorder').flat().length >= 3);
    await sleep(2_000); // several more scans (every 300 ms) on whichever instance scans
    expect(
        eventsOf('BlobRecorder')
            .flat()
            .map((event) => event.name)
            .sort(),
    ).toEqual(['one', 'three', 'two']);
});

test('when the instance running a timer stops, the other one takes the timer over', async () => {
    const holder = hosts.findIndex((host) => fixtureEvents(host.output(), 'Ticker').length > 0);
    const other = hosts[1 - holder];
    const before = tickerSeconds(eventsOf('Ticker')[holder]);
    await hosts[holder].stop();
    const stoppedAt = Date.now();
    expect(hosts[holder].output()).toContain(`Singleton lock released (${hostId}/Host.Functions.Ticker.Listener)`);

    await other.waitForOutput(
        new RegExp(`Singleton lock acquired \\(${hostId}/Host\\.Functions\\.Ticker\\.Listener\\)`),
        25_000,
    );
    await waitUntil('Ticker runs on the other instance', () => fixtureEvents(other.output(), 'Ticker').length >= 2);
    // The other instance tries again every 15 s (listenerLockRecoveryPollingInterval).
    expect(Date.now() - stoppedAt).toBeLessThan(25_000);
    const after = tickerSeconds(fixtureEvents(other.output(), 'Ticker'));
    expect(Math.min(...after)).toBeGreaterThan(Math.max(...before));
});
