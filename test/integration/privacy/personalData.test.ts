import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventsProcessor } from '../../../functions/eventsProcessor';
import { maxDequeueCount, readFailure, recordingFailures } from '../../../shared/failures';
import { instanceSubject, ledgerOf, recordRefused } from '../../../shared/ledger';
import { containers, poisonQueueOf, queues } from '../../../shared/names';
import { gatherStatus, renderStatusHtml, renderStatusText } from '../../../shared/status';
import { processAddRequests, subscriptionDeps } from '../../../shared/subscriptions';
import { runAos } from '../../../tools/aos';
import { invocationContext } from '../../support/functions';
import { eventOf, startHarness, type Harness } from '../pipeline/harness';

/*
 * Altinn's error bodies may quote what they were given, a person's national identity number
 * included, in any form. Each path that logs or stores such a body (the log lines, the error handed
 * to the host, the ledger's last failure, the recorded poison reason, a refused subscription's
 * reason, the status page, and what `aos` prints) carries none of it.
 *
 * The number is made up and cannot be anyone's: 29 February 1999 never was.
 */

jest.setTimeout(90_000);

const birth = '290299';
const individual = '47813';
const number = `${birth}${individual}`;
/** Every form an Altinn body might quote it in. */
const quoted = [
    `no party for /person/${number}`,
    `alternativesubject=%2Fperson%2F${number}`,
    `double %252Fperson%252F${number}`,
    `born ${birth}-${individual}`,
    `born ${birth} ${individual}`,
].join('; ');
/** A value that is personal only because of the field name it stands under. */
const secret = 'kari.nordmann.secret';

let h: Harness;
let dir: string;

beforeAll(async () => {
    h = await startHarness({ HttpRetryBudgetSeconds: '1' });
    dir = mkdtempSync(join(tmpdir(), 'aos-privacy-'));
});

afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
});

function expectNoPersonalData(where: string, text: string): void {
    expect({ where, leaks: text.includes(birth) || text.includes(secret) }).toEqual({ where, leaks: false });
}

async function aos(...args: string[]): Promise<string> {
    const lines: string[] = [];
    await runAos(args, {
        env: { AzureWebJobsStorage: h.env.AzureWebJobsStorage },
        cwd: dir,
        out: (line) => lines.push(line),
        err: (line) => lines.push(line),
    });
    return lines.join('\n');
}

it('a failed download whose error body quotes a person number: logs, error, ledger, poison record, status and aos', async () => {
    const created = await h.sim.control.createInstance({
        app: 'privacy-app',
        process: 'completed',
        publish: true,
        deliver: false,
    });
    const event = eventOf(created);
    for (const body of [quoted, { title: 'Internal Server Error', detail: quoted }]) {
        await h.sim.control.clearFaults();
        await h.sim.control.addFault({ endpoint: 'apps.getInstance', status: 500, body });
        await h.enqueue(event);
        const handler = recordingFailures(
            queues.eventsInbound,
            () => h.services.storage,
            createEventsProcessor(() => h.services),
        );
        const run = await h.deliver(queues.eventsInbound, handler, maxDequeueCount());
        expect(run.error).toBeInstanceOf(Error);
        expectNoPersonalData(
            'the error the host prints',
            `${(run.error as Error).message}\n${(run.error as Error).stack}`,
        );
        expect(run.logs.length).toBeGreaterThan(0);
        expectNoPersonalData('the log lines', run.logs.map((log) => log.message).join('\n'));

        const [entry] = await ledgerOf(h.services.storage).find(created.id);
        expect(entry.lastFailureError).toContain('[redacted]');
        expectNoPersonalData("the ledger's last failure", entry.lastFailureError ?? '');
        const record = await readFailure(h.services.storage, queues.eventsInbound, event.id);
        expectNoPersonalData('the recorded poison reason', record?.error ?? '');
    }
    // The host moves the message to the poison queue after the last attempt.
    await h.enqueue(event, poisonQueueOf(queues.eventsInbound));

    const report = await gatherStatus({ config: h.services.config, storage: h.services.storage });
    expectNoPersonalData('the status JSON', JSON.stringify(report));
    expectNoPersonalData('the status page', renderStatusHtml(report));
    expectNoPersonalData('the status text', renderStatusText(report).join('\n'));
    const ledgerShown = await aos('ledger', 'show', created.id);
    expect(ledgerShown).toContain('last failure');
    expectNoPersonalData('aos ledger show', ledgerShown);
    expectNoPersonalData('aos ledger show --json', await aos('ledger', 'show', created.id, '--json'));
    const poisonShown = await aos('poison', 'list');
    expect(poisonShown).toContain(event.id);
    expectNoPersonalData('aos poison list', poisonShown);
});

it('a subscription Altinn refuses with a body quoting personal data: the refusal reason, its log line, status and aos', async () => {
    const add = h.services.storage.container(containers.addSubscriptions);
    await add.createIfNotExists();
    const request = JSON.stringify({
        endPoint: 'https://aos.example.no/api/eventsreceiver?code=k',
        sourceFilter: `${h.sim.appsUrl}/ttd/privacy-app`,
    });
    const bodies: unknown[] = [
        // Altinn's own refusals are JSON-quoted strings (altinn-api.md §1.1).
        JSON.stringify(`Not authorized to create a subscription with subject ${quoted}`),
        { PersonNumber: number, AlternativeSubject: `/user/${secret}`, SSN: secret },
    ];
    for (const [index, body] of bodies.entries()) {
        await h.sim.control.clearFaults();
        await h.sim.control.addFault({ endpoint: 'events.subscriptions', status: 403, body });
        const name = `refused-${index}`;
        await add.getBlockBlobClient(`${name}.json`).upload(request, Buffer.byteLength(request));
        const { context, logs } = invocationContext('EventsSubscriber');
        const summary = await processAddRequests(subscriptionDeps(h.services), context);
        expect(summary.refused).toBe(1);
        expectNoPersonalData('the subscription log lines', logs.map((log) => log.message).join('\n'));
        const failed = await h.services.storage
            .container(containers.failedSubscriptions)
            .getBlobClient(`${name}.json`)
            .downloadToBuffer();
        const reason = (JSON.parse(failed.toString('utf8')) as { error: { message: string } }).error.message;
        expect(reason).toContain('[redacted]');
        expectNoPersonalData('the refusal reason in failed-subscriptions', reason);
    }
    // A reason stored before redaction (an older version wrote it) is still redacted where it is shown.
    const old = JSON.stringify({ operation: 'add', name: 'old', error: { message: `Altinn said ${quoted}` } });
    await h.services.storage
        .container(containers.failedSubscriptions)
        .getBlockBlobClient('old.json')
        .upload(old, Buffer.byteLength(old));

    const report = await gatherStatus({ config: h.services.config, storage: h.services.storage });
    expect(report.subscriptions.failed.map((failed) => failed.name)).toEqual(['old', 'refused-0', 'refused-1']);
    expectNoPersonalData('the status JSON', JSON.stringify(report));
    expectNoPersonalData('the status page', renderStatusHtml(report));
    expectNoPersonalData('aos status', await aos('status'));
    expectNoPersonalData('aos subscriptions list', await aos('subscriptions', 'list'));
});

it("a refusal's reason is stored in the ledger with personal data redacted", async () => {
    const ref = {
        org: 'ttd',
        app: 'privacy-app',
        partyId: '50001234',
        instanceGuid: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
    };
    const { context } = invocationContext('EventsProcessor');
    const ledger = ledgerOf(h.services.storage);
    await recordRefused(ledger, context, instanceSubject(ref), `refused: ${quoted}`);
    const [entry] = await ledger.find(`${ref.partyId}/${ref.instanceGuid}`);
    expect(entry.refusedReason).toContain('[redacted]');
    expectNoPersonalData("the ledger's refusal reason", entry.refusedReason ?? '');
});

it('aos prints ids with control, line-separator and bidi characters escaped', async () => {
    const id = 'evil\u001b[2J\r\u2028next\u202eline\u0085';
    await h.enqueue(
        { specversion: '1.0', id, type: 'app.instance.process.completed', source: 'x' },
        poisonQueueOf(queues.eventsInbound),
    );
    const shown = await aos('poison', 'list', '--queue', queues.eventsInbound);
    expect(shown).toContain('evil\\u001b[2J\\u000d\\u2028next\\u202eline\\u0085');
    // eslint-disable-next-line no-control-regex
    expect(shown).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
});
