import { createHash } from 'node:crypto';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import type { CloudEvent, FileScanResult } from '../../../dev/simulator/types';
import { type Simulator } from '../../../dev/simulator/simulator';
import { readFailure } from '../../../shared/failures';
import type { ReceivedMessage } from '../../../shared/handoff/message';
import { listPoison } from '../../../shared/poison';
import { createStorage, encodeQueueMessage } from '../../../shared/storage';
import { formatPoison } from '../../../tools/commands/poison';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { quickQueueSettings, repoRoot, startHostProcess, type HostProcess } from '../../support/host';
import { peekTexts, waitForSome } from '../../support/queues';
import { receivedValidator } from '../../support/receivedSchema';
import {
    clientRegistration,
    clientSettings,
    createClientCredentials,
    startTestSimulator,
    waitUntil,
    SERVICEOWNER_SCOPES,
} from '../../support/simulator';
import { BROKER_SCOPES, ME, RESOURCE, SENDER } from '../broker/harness';

/*
 * After complete, through the local host with the project's own registrations: the hand-off
 * message on instances-received (checked against docs/instances-received.schema.json and the
 * stored blobs), the citizen's substatus, a substatus failure retried on events-substatus without
 * a second download or complete, a Broker file's hand-off, and no personal data in anything the
 * host printed, any recorded failure or the poison listing. The simulator gives every person an
 * 11-digit identity number, in instanceOwner.personNumber and the event's alternativesubject.
 * Needs `npm run build` first.
 */

jest.setTimeout(120_000);

const label = 'Mottatt av etaten';
const description = 'Saken er mottatt og blir behandlet.';
const validate = receivedValidator();

let azurite: AzuriteInstance;
let sim: Simulator;
let host: HostProcess;
let blobs: BlobServiceClient;
/** Every identity number and alternativesubject the runs carried, to look for afterwards. */
const personal = new Set<string>();

beforeAll(async () => {
    [azurite, sim] = await Promise.all([startAzurite(), startTestSimulator({ orgNumber: ME })]);
    const creds = createClientCredentials();
    const scopes = [...SERVICEOWNER_SCOPES, ...BROKER_SCOPES];
    await sim.control.registerClient(clientRegistration(creds, scopes));
    host = await startHostProcess({
        appRoot: repoRoot,
        env: {
            AzureWebJobsStorage: azurite.connectionString,
            ...clientSettings(sim, creds, scopes),
            SubstatusLabel: label,
            SubstatusDescription: description,
            BrokerResources: RESOURCE,
            ...quickQueueSettings,
        },
    });
    blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
});

afterAll(async () => {
    await host?.stop(10_000);
    await Promise.all([sim?.stop(), azurite?.stop()]);
});

function queue(name: string): QueueClient {
    return new QueueClient(azurite.connectionString, name);
}

const peek = (name: string): Promise<string[]> => peekTexts(azurite.connectionString, name);

/** The instances-received messages about `id` (instanceId or fileTransferId). */
async function receivedAbout(id: string): Promise<ReceivedMessage[]> {
    return (await peek('instances-received'))
        .map((text) => JSON.parse(text) as ReceivedMessage)
        .filter((m) => (m.kind === 'instance' ? m.instanceId : m.fileTransferId) === id);
}

/** An instance of a form and an attachment (which Altinn's scan may have found infected). */
async function submit(
    app: string,
    attachmentScan: FileScanResult = 'Clean',
): Promise<{ id: string; instanceGuid: string; event: CloudEvent }> {
    const created = await sim.control.createInstance({
        app,
        process: 'completed',
        publish: true,
        dataElements: [
            {
                dataType: 'model',
                content: '<skjema><navn>Ola</navn></skjema>',
                contentType: 'application/xml',
                fileScanResult: 'Clean',
            },
            {
                dataType: 'vedlegg',
                content: 'PDF-ish bytes',
                contentType: 'application/pdf',
                filename: 'søknad.pdf',
                fileScanResult: attachmentScan,
            },
        ],
    });
    const event = created.events[0];
    const alternative = event.alternativesubject as string;
    expect(alternative).toMatch(/^\/person\/\d{11}$/);
    personal.add(alternative);
    personal.add(alternative.slice('/person/'.length));
    await queue('events-inbound').sendMessage(encodeQueueMessage(JSON.stringify(event)));
    return { id: created.id, instanceGuid: created.instanceGuid, event };
}

async function sha256Of(container: ContainerClient, blob: string): Promise<string> {
    return createHash('sha256')
        .update(await container.getBlobClient(blob).downloadToBuffer())
        .digest('hex');
}

function substatusOf(instance: Record<string, unknown>): unknown {
    return (instance.status as { substatus?: unknown } | undefined)?.substatus;
}

test('a confirmed instance is handed off, matching its blobs and the schema, the citizen sees the substatus, and a repeat changes nothing', async () => {
    const { id, instanceGuid, event } = await submit('handoff-app', 'Infected');
    const [message] = await waitForSome(() => receivedAbout(id), 30_000, 'the instances-received message');
    await host.waitForOutput(new RegExp(`step=substatus-set eventId=${event.id}`), 10_000);

    expect(validate(message)).toEqual([]);
    const folder = `ttd/handoff-app/${instanceGuid}`;
    expect(message).toMatchObject({
        kind: 'instance',
        instanceId: id,
        org: 'ttd',
        app: 'handoff-app',
        container: 'inbound',
        instanceBlob: `${folder}/instance.json`,
        manifestBlob: `${folder}/manifest.json`,
    });
    const inbound = blobs.getContainerClient('inbound');
    expect(await inbound.getBlobClient(message.instanceBlob).exists()).toBe(true);
    expect(await inbound.getBlobClient(message.manifestBlob!).exists()).toBe(true);
    const stored = JSON.parse((await inbound.getBlobClient(message.instanceBlob).downloadToBuffer()).toString()) as {
        data: { id: string; size: number; contentType: string; filename?: string }[];
    };
    expect(message.elements).toHaveLength(2);
    expect(message.elements!.map((element) => element.quarantined).sort()).toEqual([false, true]);
    expect(host.output()).toMatch(new RegExp(`step=handed-off eventId=${event.id}[^\\n]*elements=2 quarantined=1`));
    const quarantine = blobs.getContainerClient('quarantine');
    for (const element of message.elements!) {
        const listed = stored.data.find((d) => d.id === element.id)!;
        const infected = listed.filename === 'søknad.pdf';
        expect(element).toMatchObject({
            blob: `${folder}/data/${element.id}`,
            size: listed.size,
            contentType: listed.contentType,
            filename: listed.filename ?? null,
            quarantined: infected,
        });
        // The bytes are where the message says (a quarantined element's in container quarantine, never in
        // inbound), and the hash names them.
        const [where, not] = infected ? [quarantine, inbound] : [inbound, quarantine];
        expect(await not.getBlobClient(element.blob).exists()).toBe(false);
        expect(element.sha256).toBe(await sha256Of(where, element.blob));
    }

    expect(substatusOf(await sim.control.getInstance(id))).toEqual({ label, description });
    expect(sim.counters().completes[id]).toBe(1);
    expect(sim.counters().requests['apps.substatus']).toEqual({ '200': 1 });

    // The message names the version the manifest describes.
    const manifest = JSON.parse((await inbound.getBlobClient(message.manifestBlob!).downloadToBuffer()).toString()) as {
        version: string;
    };
    expect(message.kind === 'instance' && message.version).toBe(manifest.version);

    // The same event again (at least once): once per version, so nothing happens but a GET and one line.
    const mark = host.output().length;
    await queue('events-inbound').sendMessage(encodeQueueMessage(JSON.stringify(event)));
    await host.waitForOutput(new RegExp(`step=already-done eventId=${event.id}`), 30_000, mark);
    expect(await receivedAbout(id)).toHaveLength(1);
    expect(sim.counters().completes[id]).toBe(1);
    expect(sim.counters().requests['apps.substatus']).toEqual({ '200': 1 });
});

test('a substatus that fails right after complete is set from events-substatus, without a second download or complete', async () => {
    await sim.control.reset();
    await sim.control.addFault({ endpoint: 'apps.substatus', status: 500, times: 1 });
    const { id, event } = await submit('substatus-retry-app');

    await host.waitForOutput(
        new RegExp(`step=substatus-deferred eventId=${event.id}[^\\n]*queue=events-substatus`),
        30_000,
    );
    await waitUntil(
        async () => (substatusOf(await sim.control.getInstance(id)) ? true : undefined),
        30_000,
        'the substatus set by EventsSubstatus',
    );
    expect(host.output()).toMatch(/Executing 'Functions\.EventsSubstatus'/);
    expect(substatusOf(await sim.control.getInstance(id))).toEqual({ label, description });
    const counters = sim.counters();
    expect(counters.completes[id]).toBe(1);
    // The download's GET, and one after the 500 that found the instance still there.
    expect(counters.requests['apps.getInstance']).toEqual({ '200': 2 });
    expect(counters.requests['apps.substatus']).toEqual({ '500': 1, '200': 1 });
    expect(await receivedAbout(id)).toHaveLength(1);
});

test('a substatus Altinn never accepts ends in events-substatus-poison with its error; the instance stays confirmed and handed off', async () => {
    await sim.control.reset();
    await sim.control.addFault({ endpoint: 'apps.substatus', status: 500 });
    const { id, event } = await submit('substatus-poison-app');
    const poisoned = await waitForSome(
        () => peek('events-substatus-poison'),
        45_000,
        'the message in events-substatus-poison',
    );
    expect(poisoned.map((text) => JSON.parse(text) as unknown)).toEqual([event]);
    const failure = await readFailure(
        createStorage({ AzureWebJobsStorage: azurite.connectionString }),
        'events-substatus',
        event.id,
    );
    expect(failure?.error).toMatch(/substatus failed.*HTTP 500/);
    expect(sim.counters().completes[id]).toBe(1);
    expect(await receivedAbout(id)).toHaveLength(1);
    await sim.control.reset();
});

test('a confirmed Broker file is handed off with its one element and filetransfer.json', async () => {
    const { fileTransferId } = await sim.control.createFileTransfer({
        resourceId: RESOURCE,
        fileName: 'melding.xml',
        content: '<melding>hei</melding>',
        recipients: [ME],
        sender: SENDER,
        deliver: false,
    });
    const event = (await sim.control.listEvents()).find(
        (e) => e.resourceinstance === fileTransferId && (e.data as { Role?: string }).Role === 'Recipient',
    )!;
    await queue('broker-inbound').sendMessage(encodeQueueMessage(JSON.stringify(event)));
    const [message] = await waitForSome(() => receivedAbout(fileTransferId), 30_000, 'the Broker file message');
    expect(validate(message)).toEqual([]);
    const broker = blobs.getContainerClient('broker');
    const file = `${RESOURCE}/${fileTransferId}/melding.xml`;
    expect(message).toMatchObject({
        kind: 'brokerFile',
        fileTransferId,
        resourceId: RESOURCE,
        container: 'broker',
        instanceBlob: `${RESOURCE}/${fileTransferId}/filetransfer.json`,
        manifestBlob: null,
        elements: [{ id: fileTransferId, blob: file, size: 22, filename: 'melding.xml', quarantined: false }],
    });
    expect((await broker.getBlobClient(file).downloadToBuffer()).toString()).toBe('<melding>hei</melding>');
    // Broker files carry a hash once the integrity work stores one on them (null until then).
    const sha256 = message.elements![0].sha256;
    if (sha256 !== null) expect(sha256).toBe(await sha256Of(broker, file));
    expect(sim.counters().requests['broker.confirm']).toEqual({ '204': 1 });
});

test('an instance that fails with an error body naming the person ends in poison with nothing personal recorded or listed', async () => {
    const created = await sim.control.createInstance({
        app: 'personal-failure-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'model', content: '<skjema/>' }],
    });
    const event = created.events[0];
    const alternative = event.alternativesubject as string;
    const number = alternative.slice('/person/'.length);
    personal.add(alternative);
    personal.add(number);
    // Altinn's error bodies may echo what they were given (app-lib answers exceptions' messages).
    await sim.control.addFault({
        endpoint: 'apps.getInstance',
        pathContains: created.instanceGuid,
        status: 500,
        contentType: 'application/problem+json',
        body: {
            title: 'Internal Server Error',
            status: 500,
            detail: `Could not look up party of ${number.slice(0, 6)} ${number.slice(6)} (alternativesubject=${alternative}, "personNumber":"${number}")`,
        },
    });
    await queue('events-inbound').sendMessage(encodeQueueMessage(JSON.stringify(event)));
    await waitForSome(() => peek('events-inbound-poison'), 45_000, 'the message in events-inbound-poison');
    const storage = createStorage({ AzureWebJobsStorage: azurite.connectionString });
    const failure = await readFailure(storage, 'events-inbound', event.id);
    expect(failure?.error).toMatch(/HTTP 500.*Could not look up party of \[redacted\]/);
    const listing = formatPoison(await listPoison(storage));
    expect(listing).toContain(event.id);
    for (const text of [JSON.stringify(failure), listing]) {
        for (const value of personal) expect(text).not.toContain(value);
    }
    await sim.control.reset();
});

test('nothing the host printed carries an identity number or an alternativesubject', () => {
    // Several people's identity numbers went through the pipeline above (at least one per test).
    expect(personal.size).toBeGreaterThanOrEqual(2);
    const output = host.output();
    expect(output).toMatch(/step=confirmed/);
    expect(output).toMatch(/\[redacted\]/);
    const leaks = [...personal].filter((value) => output.includes(value));
    expect(leaks).toEqual([]);
    expect(output).not.toMatch(/(?<![0-9A-Za-z])\d{11}(?![0-9A-Za-z])/);
});
