import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { maxDequeueCount, recordingFailures } from '../../../shared/failures';
import { ledgerOf, lastRuns, recordRun, subjectOfMessage, type LedgerSubject } from '../../../shared/ledger';
import { createStorage } from '../../../shared/storage';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';

let azurite: AzuriteInstance;
const lines: string[] = [];
const logger = {
    info: (l: unknown) => lines.push(String(l)),
    warn: (l: unknown) => lines.push(String(l)),
    error: (l: unknown) => lines.push(String(l)),
};

// Azurite starts slowly on a loaded machine (the full suite timed out here at jest's default 5 s).
beforeAll(async () => {
    azurite = await startAzurite();
}, 30_000);
afterAll(async () => {
    await azurite?.stop();
});
beforeEach(() => (lines.length = 0));

function instance(app = 'ledger-app'): LedgerSubject & { kind: 'instance' } {
    return { kind: 'instance', org: 'ttd', app, partyId: '50001', instanceGuid: randomUUID() };
}

test('each fact merges into one entry; first seen stays as first written', async () => {
    const ledger = ledgerOf(createStorage({ AzureWebJobsStorage: azurite.connectionString }));
    const writer = ledger.writer(logger);
    const subject = instance();

    await writer.firstSeen(subject, 'reconciliation', 'event-1');
    await writer.firstSeen(subject, 'webhook', 'event-2');
    await writer.failed(subject, { step: 'store', error: 'boom' });
    await writer.stored(subject, { elements: 2, bytes: 1234 });
    await writer.confirmed(subject);

    const [entry] = await ledger.find(`${subject.partyId}/${subject.instanceGuid}`);
    expect(entry).toMatchObject({
        kind: 'instance',
        id: `${subject.partyId}/${subject.instanceGuid}`,
        org: 'ttd',
        app: 'ledger-app',
        firstSeenVia: 'reconciliation',
        firstEventId: 'event-1',
        elements: 2,
        bytes: 1234,
        confirmed: true,
        lastFailureStep: 'store',
        lastFailureError: 'boom',
    });
    expect(entry.confirmedAt).toBeInstanceOf(Date);
    expect(await ledger.get(subject)).toEqual(entry);
    expect(lines).toEqual([]);
});

test('a fact written before first seen still lets first seen in, and the entry counts as unconfirmed', async () => {
    const ledger = ledgerOf(createStorage({ AzureWebJobsStorage: azurite.connectionString }));
    const writer = ledger.writer(logger);
    const subject = instance('late-app');
    await writer.poisoned(subject, { step: 'confirm', error: 'gave up' });
    await writer.firstSeen(subject, 'catchup');

    const entry = await ledger.get(subject);
    expect(entry).toMatchObject({ firstSeenVia: 'catchup', confirmed: false, lastFailureStep: 'confirm' });
    expect(entry?.poisonedAt).toBeInstanceOf(Date);
    expect((await ledger.listUnconfirmed({ kind: 'instance', org: 'ttd', app: 'late-app' })).map((e) => e.id)).toEqual([
        entry!.id,
    ]);
});

test('lists answer per app, per kind and since a time', async () => {
    const ledger = ledgerOf(createStorage({ AzureWebJobsStorage: azurite.connectionString }));
    const writer = ledger.writer(logger);
    const [a, b] = [instance('list-a'), instance('list-b')];
    const file: LedgerSubject = { kind: 'brokerFile', resourceId: 'ttd-broker', fileTransferId: randomUUID() };
    await writer.firstSeen(a, 'webhook');
    await writer.firstSeen(b, 'webhook');
    await writer.confirmed(b);
    await writer.firstSeen(file, 'catchup');

    const since = new Date(Date.now() - 60_000);
    expect((await ledger.listSince({ kind: 'instance', org: 'ttd', app: 'list-a' }, since)).length).toBe(1);
    expect((await ledger.listSince({ kind: 'brokerFile', resourceId: 'ttd-broker' }, since)).length).toBe(1);
    const allInstances = await ledger.listSince({ kind: 'instance' }, since);
    expect(allInstances.map((e) => e.app)).toEqual(expect.arrayContaining(['list-a', 'list-b']));
    expect(allInstances.every((e) => e.kind === 'instance')).toBe(true);
    expect(
        await ledger.listSince({ kind: 'instance', org: 'ttd', app: 'list-a' }, new Date(Date.now() + 60_000)),
    ).toEqual([]);
    expect((await ledger.listUnconfirmed({ kind: 'instance', org: 'ttd', app: 'list-b' })).length).toBe(0);
    expect((await ledger.find(file.fileTransferId))[0]).toMatchObject({ kind: 'brokerFile', resourceId: 'ttd-broker' });
});

test('the last run per app replaces the one before', async () => {
    const ledger = ledgerOf(createStorage({ AzureWebJobsStorage: azurite.connectionString }));
    await recordRun(ledger, logger, {
        kind: 'reconciliation',
        subject: 'ttd/run-app',
        at: new Date(),
        found: 3,
        queued: 3,
    });
    await recordRun(ledger, logger, {
        kind: 'reconciliation',
        subject: 'ttd/run-app',
        at: new Date(),
        found: 1,
        queued: 0,
        error: 'x',
    });
    const runs = await lastRuns(ledger, 'reconciliation');
    expect(runs).toEqual([expect.objectContaining({ subject: 'ttd/run-app', found: 1, queued: 0, error: 'x' })]);
    expect(await lastRuns(ledger, 'catchup')).toEqual([]);
});

test('a ledger that cannot be reached is logged, never thrown', async () => {
    // A table endpoint where nothing listens.
    const unreachable = azurite.connectionString.replace(
        /TableEndpoint=http:\/\/127\.0\.0\.1:\d+/,
        'TableEndpoint=http://127.0.0.1:9',
    );
    const ledger = ledgerOf(createStorage({ AzureWebJobsStorage: unreachable }));
    const subject = instance();
    await expect(ledger.writer(logger).stored(subject, { bytes: 1 })).resolves.toBeUndefined();
    expect(lines).toEqual([
        expect.stringMatching(/^step=ledger-write-failed fact=stored kind=instance id=50001\/\S+ error=/),
    ]);
});

test('a failed queue attempt is the last failure; the final one marks the entry poisoned', async () => {
    const storage = createStorage({ AzureWebJobsStorage: azurite.connectionString });
    const subject = instance('failing-app');
    const message = {
        specversion: '1.0',
        id: 'event-f',
        type: 'app.instance.process.completed',
        source: `https://ttd.apps.tt02.altinn.no/ttd/failing-app/instances/${subject.partyId}/${subject.instanceGuid}`,
    };
    const handler = recordingFailures(
        'events-confirmation',
        () => storage,
        () => Promise.reject(new Error('Altinn answered 503')),
    );
    const attempt = (dequeueCount: number) =>
        expect(handler(message, new InvocationContext({ triggerMetadata: { dequeueCount } }))).rejects.toThrow('503');

    await attempt(1);
    const first = await ledgerOf(storage).get(subject);
    expect(first).toMatchObject({ lastFailureStep: 'confirm', lastFailureError: 'Altinn answered 503' });
    expect(first?.poisonedAt).toBeUndefined();

    await attempt(maxDequeueCount());
    expect((await ledgerOf(storage).get(subject))?.poisonedAt).toBeInstanceOf(Date);
});

test('a Broker message is recorded against its file transfer, and a message naming nothing is not recorded', () => {
    const fileTransferId = randomUUID();
    const broker = { resource: 'urn:altinn:resource:ttd-broker', resourceinstance: fileTransferId, source: 'x' };
    expect(subjectOfMessage(broker, 'brokerFile')).toEqual({
        kind: 'brokerFile',
        resourceId: 'ttd-broker',
        fileTransferId,
    });
    expect(subjectOfMessage(broker, 'instance')).toBeUndefined();
    expect(
        subjectOfMessage({ source: 'https://ttd.apps.tt02.altinn.no/ttd/a/instances/1/not-a-guid' }, 'instance'),
    ).toBeUndefined();
    expect(subjectOfMessage('text', 'instance')).toBeUndefined();
});
