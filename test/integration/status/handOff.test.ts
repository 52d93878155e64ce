import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventsConfirmation } from '../../../functions/eventsConfirmation';
import { createEventsProcessor } from '../../../functions/eventsProcessor';
import { notEndedSinceAttribute, parseInstanceSource } from '../../../shared/instances';
import { instanceSubject, ledgerOf } from '../../../shared/ledger';
import { queues } from '../../../shared/names';
import { gatherStatus, renderStatusHtml, renderStatusText } from '../../../shared/status';
import { runAos } from '../../../tools/aos';
import { connectionStringFor } from '../../support/azurite';
import { startStorageRecorder, type StorageRecorder } from '../../support/storageRecorder';
import { eventFor, eventOf, startHarness, steps, type Harness } from '../pipeline/harness';

/*
 * Nothing failed vanishes from view: an instance confirmed to Altinn whose hand-off never reached
 * instances-received, once older than an hour, and an instance whose completed event found its
 * process not ended, are counted on the status page (JSON, HTML, the `aos status` text) and listed
 * by `npm run aos -- ledger not-handed-off` and `... ledger not-ended`.
 */

jest.setTimeout(60_000);

let h: Harness;
let queueRecorder: StorageRecorder;
let dir: string;
const hour = 3600_000;

beforeAll(async () => {
    h = await startHarness({ ProcessEndWaitMinutes: '1' });
    queueRecorder = await startStorageRecorder(h.azurite.queuePort);
    dir = mkdtempSync(join(tmpdir(), 'aos-handoff-'));
});

afterAll(async () => {
    await queueRecorder?.stop();
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
});

async function aos(...args: string[]) {
    const out: string[] = [];
    const code = await runAos(args, {
        env: { AzureWebJobsStorage: h.azurite.connectionString },
        cwd: dir,
        out: (line) => out.push(line),
        err: () => undefined,
    });
    return { code, out: out.join('\n') };
}

const status = (now: Date) => gatherStatus({ config: h.services.config, storage: h.services.storage, now: () => now });

test('confirmed but never handed off: counted after an hour, listed by aos, gone once the confirmation stage hands it off', async () => {
    const created = await h.sim.control.createInstance({
        app: 'handoff-gap-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'model', content: '<skjema/>' }],
    });
    // The queue service refuses the hand-off message (403: not retried), and only that.
    queueRecorder.refuse = (call, index) =>
        call === 'POST' && queueRecorder.requests[index].path.includes(queues.instancesReceived) ? 403 : undefined;
    const refusing = h.servicesWith({
        AzureWebJobsStorage: connectionStringFor({ ...h.azurite, queuePort: queueRecorder.port }),
    });
    await h.enqueue(eventOf(created));
    const run = await h.deliver(
        queues.eventsInbound,
        createEventsProcessor(() => refusing),
    );
    expect(run.error).toBeUndefined();
    expect(steps(run.logs, 'confirmed')).toHaveLength(1);
    expect(steps(run.logs, 'confirm-deferred')).toHaveLength(1);
    queueRecorder.refuse = undefined;

    const subject = instanceSubject(parseInstanceSource(created.url, h.sim.appsUrl));
    const ledger = ledgerOf(h.services.storage);
    expect(await ledger.get(subject)).toMatchObject({ confirmed: true, handedOff: false });
    // Within the hour it is not counted; two hours on it is.
    expect((await status(new Date())).notHandedOff).toEqual([]);
    const later = await status(new Date(Date.now() + 2 * hour));
    expect(later.notHandedOff).toEqual([
        expect.objectContaining({ instanceId: created.id, app: 'ttd/handoff-gap-app', poisoned: false }),
    ]);
    expect(later.attention).toContainEqual(
        expect.stringMatching(new RegExp(`^1 instance\\(s\\) confirmed to Altinn but never handed off.*${created.id}`)),
    );
    expect(renderStatusHtml(later)).toMatch(
        new RegExp(
            `<table id="not-handed-off">.*<tr class="bad"><td>${created.id}</td><td>ttd/handoff-gap-app</td>`,
            's',
        ),
    );
    expect(renderStatusText(later)).toContain('Confirmed more than 1 h ago, never handed off: 1');

    // As if it had been confirmed two hours ago: aos lists it.
    await ledger.merge(subject, { confirmedAt: new Date(Date.now() - 2 * hour) });
    const listed = await aos('ledger', 'not-handed-off');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(
        new RegExp(`^1 instance\\(s\\) confirmed .*\\n  ${created.id}  ttd/handoff-gap-app  confirmed `),
    );
    expect(JSON.parse((await aos('ledger', 'not-handed-off', '--json')).out)).toEqual([
        expect.objectContaining({ instanceId: created.id }),
    ]);

    // events-confirmation retries: complete (idempotent) and the hand-off, which now works.
    const confirmed = await h.deliver(
        queues.eventsConfirmation,
        createEventsConfirmation(() => h.services),
    );
    expect(confirmed.error).toBeUndefined();
    expect(steps(confirmed.logs, 'handed-off')).toHaveLength(1);
    expect(await ledger.get(subject)).toMatchObject({ handedOff: true });
    expect((await status(new Date(Date.now() + 2 * hour))).notHandedOff).toEqual([]);
    expect((await aos('ledger', 'not-handed-off')).out).toMatch(/^0 instance\(s\)/);
});

test('a completed event for a process not ended, once the wait is over: on the status page and listed by aos', async () => {
    const created = await h.sim.control.createInstance({ app: 'not-ended-app', process: 'Task_1' });
    const since = new Date(Date.now() - 2 * 60_000).toISOString();
    await h.enqueue({
        ...eventFor(created.url, 'app.instance.process.completed', 'early'),
        [notEndedSinceAttribute]: since,
    });
    const run = await h.deliver(
        queues.eventsInbound,
        createEventsProcessor(() => h.services),
    );
    expect(steps(run.logs, 'process-not-ended')).toHaveLength(1);

    const report = await status(new Date());
    expect(report.processNotEnded).toEqual([
        expect.objectContaining({ instanceId: created.id, app: 'ttd/not-ended-app', task: 'Task_1', eventId: 'early' }),
    ]);
    expect(report.attention).toContainEqual(expect.stringContaining(`Instance ${created.id} (ttd/not-ended-app)`));
    expect(renderStatusHtml(report)).toMatch(
        new RegExp(`<table id="process-not-ended">.*<tr class="bad"><td>${created.id}</td>`, 's'),
    );
    expect(renderStatusText(report).join('\n')).toContain(`  ${created.id} (ttd/not-ended-app) at `);
    const listed = await aos('ledger', 'not-ended');
    expect(listed.out).toContain(`  ${created.id}  ttd/not-ended-app  at `);
    expect((await aos('ledger', 'show', created.id)).out).toMatch(/not ended {5}\S+ {2}in Task_1/);
});
