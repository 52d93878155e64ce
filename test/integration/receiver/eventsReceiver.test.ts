import { QueueClient } from '@azure/storage-queue';
import type * as receiverModule from '../../../functions/eventsReceiver';
import { eventsReceiver, maxEventBytes } from '../../../functions/eventsReceiver';
import { decodeQueueMessage, maxQueuedTextBytes } from '../../../shared/storage';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { invocationContext, postRequest } from '../../support/functions';

const url = 'http://127.0.0.1:7071/api/eventsreceiver?code=test';
let azurite: AzuriteInstance;
let inbound: QueueClient;
let brokerInbound: QueueClient;

const completedEvent = {
    specversion: '1.0',
    id: 'a5c1a6b7-6f3e-4bd5-9f9e-2f7c1d3f0001',
    time: '2026-11-22T10:00:00.1234567Z',
    source: 'https://ttd.apps.tt02.altinn.no/ttd/apps-test/instances/50015641/0f5d3a28-7cde-4d6c-a7a2-2d8d1b2d8a11',
    subject: '/party/50015641',
    type: 'app.instance.process.completed',
    alternativesubject: '/person/16035001577',
    resource: 'urn:altinn:resource:app_ttd_apps-test',
    resourceinstance: '50015641/0f5d3a28-7cde-4d6c-a7a2-2d8d1b2d8a11',
    data: { note: 'æøå ✓' },
};

async function drain(queue: QueueClient): Promise<unknown[]> {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
    return receivedMessageItems.map((item) => JSON.parse(decodeQueueMessage(item.messageText)) as unknown);
}

beforeAll(async () => {
    azurite = await startAzurite();
    process.env.AzureWebJobsStorage = azurite.connectionString;
    inbound = new QueueClient(azurite.connectionString, 'events-inbound');
    brokerInbound = new QueueClient(azurite.connectionString, 'broker-inbound');
    await inbound.createIfNotExists();
    await brokerInbound.createIfNotExists();
});

afterAll(async () => {
    await azurite.stop();
});

afterEach(async () => {
    await inbound.clearMessages();
    await brokerInbound.clearMessages();
});

test('an accepted event is queued base64-encoded with every attribute kept', async () => {
    const { context, logs } = invocationContext('EventsReceiver');
    const response = await eventsReceiver(postRequest(url, JSON.stringify(completedEvent)), context);
    expect(response.status).toBe(200);
    const { receivedMessageItems } = await inbound.receiveMessages();
    expect(receivedMessageItems).toHaveLength(1);
    expect(JSON.parse(decodeQueueMessage(receivedMessageItems[0].messageText))).toEqual(completedEvent);
    expect(logs.some((log) => log.message.includes(`eventId=${completedEvent.id}`))).toBe(true);
});

test('the subscription validation event gets 200 and is not queued', async () => {
    const validation = {
        specversion: '1.0',
        id: 'b2b6d0b5-1c7e-4a57-9c1c-2c4b1c0f0002',
        source: 'https://platform.tt02.altinn.no/events/api/v1/subscriptions/1619',
        type: 'platform.events.validatesubscription',
    };
    const response = await eventsReceiver(postRequest(url, JSON.stringify(validation)), invocationContext('r').context);
    expect(response.status).toBe(200);
    expect(await drain(inbound)).toEqual([]);
});

test('a Broker event goes to broker-inbound, not to the instance pipeline', async () => {
    const brokerEvent = {
        specversion: '1.0',
        id: 'c0c0c0c0-0000-4000-8000-000000000003',
        source: 'https://platform.tt02.altinn.no/broker/api/v1/filetransfer',
        type: 'no.altinn.broker.published',
        subject: 'urn:altinn:organization:identifier-no:991825827',
        resource: 'urn:altinn:resource:ttd-broker',
        resourceinstance: '2f9b1f3c-5c55-4c6a-8d7e-1a2b3c4d5e6f',
        data: { Role: 'Recipient' },
    };
    const response = await eventsReceiver(
        postRequest(url, JSON.stringify(brokerEvent)),
        invocationContext('r').context,
    );
    expect(response.status).toBe(200);
    expect(await drain(brokerInbound)).toEqual([brokerEvent]);
    expect(await drain(inbound)).toEqual([]);
});

describe('bad input gets problem details and nothing is queued', () => {
    const cases: [string, string, number, RegExp][] = [
        ['not JSON', '{"specversion": "1.0",', 400, /not valid JSON/],
        ['a JSON array', '[]', 400, /JSON object/],
        ['a JSON string', '"hello"', 400, /JSON object/],
        ['missing specversion', JSON.stringify({ ...completedEvent, specversion: undefined }), 400, /specversion/],
        ['empty id', JSON.stringify({ ...completedEvent, id: '' }), 400, /"id"/],
        ['blank source', JSON.stringify({ ...completedEvent, source: '   ' }), 400, /"source"/],
        ['missing type', JSON.stringify({ ...completedEvent, type: undefined }), 400, /"type"/],
        ['numeric id', JSON.stringify({ ...completedEvent, id: 42 }), 400, /"id"/],
        ['specversion 0.3', JSON.stringify({ ...completedEvent, specversion: '0.3' }), 400, /"1.0"/],
        ['a non-string subject', JSON.stringify({ ...completedEvent, subject: { party: 1 } }), 400, /"subject"/],
        ['an empty body', '', 400, /not valid JSON/],
    ];
    test.each(cases)('%s', async (_name, body, status, detail) => {
        const response = await eventsReceiver(postRequest(url, body), invocationContext('r').context);
        expect(response.status).toBe(status);
        expect((response.headers as Record<string, string>)['content-type']).toBe('application/problem+json');
        const problem = response.jsonBody as { status: number; detail: string; title: string };
        expect(problem.status).toBe(status);
        expect(problem.detail).toMatch(detail);
        expect(await drain(inbound)).toEqual([]);
    });

    test('a body over 1 MiB gets 413', async () => {
        const huge = JSON.stringify({ ...completedEvent, data: 'x'.repeat(maxEventBytes) });
        const response = await eventsReceiver(postRequest(url, huge), invocationContext('r').context);
        expect(response.status).toBe(413);
        expect((response.jsonBody as { status: number }).status).toBe(413);
        expect(await drain(inbound)).toEqual([]);
    });

    test('an event too large for a queue message gets 413 naming its size, not a false 200', async () => {
        const big = JSON.stringify({ ...completedEvent, data: 'z'.repeat(maxQueuedTextBytes) });
        expect(Buffer.byteLength(big)).toBeLessThan(maxEventBytes);
        const response = await eventsReceiver(postRequest(url, big), invocationContext('r').context);
        expect(response.status).toBe(413);
        expect((response.jsonBody as { detail: string }).detail).toContain(String(Buffer.byteLength(big)));
        expect(await drain(inbound)).toEqual([]);
    });

    test('an event just under the queue limit is queued intact', async () => {
        const base = JSON.stringify({ ...completedEvent, data: '' });
        const padded = JSON.stringify({ ...completedEvent, data: 'y'.repeat(maxQueuedTextBytes - base.length) });
        expect(Buffer.byteLength(padded)).toBe(maxQueuedTextBytes);
        const response = await eventsReceiver(postRequest(url, padded), invocationContext('r').context);
        expect(response.status).toBe(200);
        expect(await drain(inbound)).toEqual([JSON.parse(padded)]);
    });
});

test('storage down: 503 with Retry-After, never 200', async () => {
    const down = await startAzurite();
    const saved = process.env.AzureWebJobsStorage;
    process.env.AzureWebJobsStorage = down.connectionString;
    // A fresh module registry, so the receiver builds its storage client for the Azurite about to stop.
    let isolated: typeof receiverModule | undefined;
    jest.isolateModules(() => {
        isolated = jest.requireActual<typeof receiverModule>('../../../functions/eventsReceiver');
    });
    await down.stop();
    const started = Date.now();
    const response = await isolated!.eventsReceiver(
        postRequest(url, JSON.stringify(completedEvent)),
        invocationContext('EventsReceiver').context,
    );
    process.env.AzureWebJobsStorage = saved;
    expect(response.status).toBe(503);
    expect((response.headers as Record<string, string>)['retry-after']).toBe('10');
    expect((response.jsonBody as { status: number }).status).toBe(503);
    // Altinn gives a webhook 45 s; the answer must come well before that.
    expect(Date.now() - started).toBeLessThan(30_000);
});
