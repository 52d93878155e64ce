import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { startHostProcess, type HostProcess } from '../../support/host';
import { fixtureApp, fixtureEvents, waitForEvents } from './fixture';

jest.setTimeout(60_000);

interface TimerInput {
    isPastDue: boolean;
    schedule: { adjustForDST: boolean };
    scheduleStatus: { last: string; next: string; lastUpdated: string };
}

let azurite: AzuriteInstance;
let host: HostProcess;

beforeAll(async () => {
    azurite = await startAzurite();
    host = await startHostProcess({
        appRoot: fixtureApp,
        // Ticker's schedule is '%TickerSchedule%'; the environment wins over local.settings.json ('*/2 ...').
        env: { AzureWebJobsStorage: azurite.connectionString, TickerSchedule: '*/3 * * * * *' },
    });
});

afterAll(async () => {
    await host?.stop();
    await azurite?.stop();
});

test('a six-field NCRONTAB schedule from a %Setting% fires on its seconds, with the host timer object', async () => {
    expect(host.output()).toContain("Ticker: timerTrigger (schedule '*/3 * * * * *')");
    const events = await waitForEvents(host, 'Ticker', (all) => all.length >= 3, 20_000);
    const fires = events.slice(0, 3).map((event) => ({ at: Number(event.at), timer: event.timer as TimerInput }));
    for (const [index, fire] of fires.entries()) {
        const second = Math.floor(fire.at / 1000);
        // Fired in the right second (a second divisible by 3), not early, and only slightly late.
        expect(second % 3).toBe(0);
        expect(fire.at % 1000).toBeLessThan(900);
        expect(fire.timer.isPastDue).toBe(false);
        expect(fire.timer.schedule).toEqual({ adjustForDST: true });
        expect(new Date(fire.timer.scheduleStatus.next).getTime()).toBe((second + 3) * 1000);
        if (index > 0) {
            expect(second - Math.floor(fires[index - 1].at / 1000)).toBe(3);
            expect(new Date(fire.timer.scheduleStatus.last).getTime()).toBe((second - 3) * 1000);
        }
    }
});

test('runOnStartup runs a timer function once at start, and the admin API runs it on demand', async () => {
    expect(fixtureEvents(host.output(), 'StartupTimer')).toHaveLength(1);
    const [startup] = fixtureEvents(host.output(), 'StartupTimer');
    expect((startup.timer as TimerInput).scheduleStatus.last).toBe('0001-01-01T00:00:00.000Z');

    const response = await fetch(`${host.url}/admin/functions/StartupTimer`, { method: 'POST', body: '{"input":""}' });
    expect(response.status).toBe(202);
    await waitForEvents(host, 'StartupTimer', (all) => all.length === 2, 5_000);
});
