import { randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { startHostProcess, type HostProcess } from '../../support/host';
import { base64, fixtureApp, fixtureEvents, fromBase64, sleep, waitForEvents, type FixtureEvent } from './fixture';

/*
 * The fixture's host.json: batchSize 4, newBatchThreshold 2, maxDequeueCount 3,
 * visibilityTimeout 00:00:02, maxPollingInterval 00:00:00.500, messageEncoding base64.
 */
const visibilityTimeoutMs = 2_000;
const maxDequeueCount = 3;

jest.setTimeout(60_000);

let azurite: AzuriteInstance;
let host: HostProcess;

beforeAll(async () => {
    azurite = await startAzurite();
    host = await startHostProcess({ appRoot: fixtureApp, env: { AzureWebJobsStorage: azurite.connectionString } });
});

afterAll(async () => {
    await host?.stop();
    await azurite?.stop();
});

function queue(name: string): QueueClient {
    return new QueueClient(azurite.connectionString, name);
}

interface RecorderEvent extends FixtureEvent {
    message: unknown;
    type: string;
    meta: Record<string, unknown>;
}

test('creates missing trigger queues, decodes base64, parses JSON, and passes the trigger metadata', async () => {
    // The listener created the queue ('records' from %RecordQueue%) at start-up.
    expect(await queue('records').exists()).toBe(true);
    const tag = randomUUID();
    const sent = await queue('records').sendMessage(base64(`plain ${tag}`));
    await queue('records').sendMessage(base64(JSON.stringify({ tag, nested: { a: [1, 2] } })));

    const events = (await waitForEvents(
        host,
        'QueueRecorder',
        (all) => all.filter((event) => JSON.stringify(event).includes(tag)).length >= 2,
    )) as RecorderEvent[];
    const text = events.find((event) => event.message === `plain ${tag}`);
    const json = events.find(
        (event) => typeof event.message === 'object' && JSON.stringify(event.message).includes(tag),
    );

    expect(text?.type).toBe('string');
    expect(text?.meta).toMatchObject({
        id: sent.messageId,
        dequeueCount: 1,
        dequeueCountType: 'number',
        queueTrigger: `plain ${tag}`,
        insertionTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
        expirationTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
        nextVisibleTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
        popReceipt: expect.any(String) as unknown,
    });
    expect(json?.message).toEqual({ tag, nested: { a: [1, 2] } });
    // Succeeded messages are deleted.
    await sleep(300);
    expect((await queue('records').peekMessages()).peekedMessageItems).toHaveLength(0);
});

test('top-level properties of a JSON message override trigger metadata, as in the host (library#459)', async () => {
    await queue('records').sendMessage(base64(JSON.stringify({ id: 'payload-id', marker: 'override' })));
    const [event] = (await waitForEvents(host, 'QueueRecorder', (all) =>
        all.some((e) => JSON.stringify(e.message).includes('override')),
    ).then((all) => all.filter((e) => JSON.stringify(e.message).includes('override')))) as RecorderEvent[];
    expect(event.meta.id).toBe('payload-id');
    expect(event.meta.dequeueCount).toBe(1);
});

test('a failed message is retried after visibilityTimeout with a growing dequeueCount', async () => {
    const tag = randomUUID();
    await queue('flaky').sendMessage(base64(JSON.stringify({ tag, succeedOn: 2 })));
    const attempts = await waitForEvents(host, 'QueueFlaky', (all) => forTag(all, tag).length >= 2).then((all) =>
        forTag(all, tag),
    );
    expect(attempts.map((attempt) => attempt.dequeueCount)).toEqual([1, 2]);
    expect(Number(attempts[1].at) - Number(attempts[0].at)).toBeGreaterThanOrEqual(visibilityTimeoutMs);
    // The second attempt succeeded: the message is gone and nothing was poisoned.
    await sleep(visibilityTimeoutMs + 500);
    expect(forTag(fixtureEvents(host.output(), 'QueueFlaky'), tag)).toHaveLength(2);
    expect((await queue('flaky').peekMessages()).peekedMessageItems).toHaveLength(0);
    expect(await queue('flaky-poison').exists()).toBe(false);
});

test('after maxDequeueCount failures the original message text moves unchanged to <queue>-poison', async () => {
    const tag = randomUUID();
    const original = base64(JSON.stringify({ tag, succeedOn: 99 }));
    await queue('flaky').sendMessage(original);
    const attempts = await waitForEvents(host, 'QueueFlaky', (all) => forTag(all, tag).length >= maxDequeueCount).then(
        (all) => forTag(all, tag),
    );
    expect(attempts.map((attempt) => attempt.dequeueCount)).toEqual([1, 2, 3]);
    for (let index = 1; index < attempts.length; index++) {
        expect(Number(attempts[index].at) - Number(attempts[index - 1].at)).toBeGreaterThanOrEqual(visibilityTimeoutMs);
    }
    await host.waitForOutput(/Message has reached MaxDequeueCount of 3\. Moving message to queue 'flaky-poison'\./);
    const poison = await waitForPeek('flaky-poison');
    expect(poison).toEqual([original]);
    // With storage's default time-to-live, 7 days, as the host adds it (QueueProcessor.CopyMessageToPoisonQueueAsync).
    const [copy] = (await queue('flaky-poison').peekMessages()).peekedMessageItems;
    expect(copy.expiresOn.getTime() - copy.insertedOn.getTime()).toBe(7 * 24 * 3_600_000);
    expect((await queue('flaky').peekMessages()).peekedMessageItems).toHaveLength(0);
    // No fourth attempt.
    await sleep(visibilityTimeoutMs + 500);
    expect(forTag(fixtureEvents(host.output(), 'QueueFlaky'), tag)).toHaveLength(maxDequeueCount);
});

test('a message dequeued more than maxDequeueCount times without being settled (its worker died) goes to poison uninvoked', async () => {
    const name = `crashed-${randomUUID().slice(0, 8)}`;
    const tag = randomUUID();
    const original = base64(JSON.stringify({ tag }));
    await queue(name).createIfNotExists();
    await queue(name).sendMessage(original);
    // Each receive that is never settled stands for a worker that died while running the message.
    for (let i = 0; i <= maxDequeueCount; i++) {
        await queue(name).receiveMessages({ visibilityTimeout: 1 });
        await sleep(1_100);
    }
    const second = await startHostProcess({
        appRoot: fixtureApp,
        env: { AzureWebJobsStorage: azurite.connectionString, RecordQueue: name },
    });
    try {
        expect(await waitForPeek(`${name}-poison`, 20_000)).toEqual([original]);
        expect(fixtureEvents(second.output(), 'QueueRecorder').filter((e) => JSON.stringify(e).includes(tag))).toEqual(
            [],
        );
    } finally {
        await second.stop();
    }
});

test('a message that is not base64 never reaches the function and ends in the poison queue', async () => {
    const raw = `not base64 ${randomUUID()}!`;
    await queue('records').sendMessage(raw);
    const poison = await waitForPeek('records-poison', 20_000);
    expect(poison).toEqual([raw]);
    const decodingFailures = host.output().match(/Message decoding has failed for message '[^']+' on queue 'records'/g);
    expect(decodingFailures).toHaveLength(maxDequeueCount);
    expect(host.output()).not.toContain(`"message":"${raw}"`);
});

test('never runs more than batchSize + newBatchThreshold messages of a function at once', async () => {
    const count = 24;
    const client = queue('concurrency');
    for (let n = 0; n < count; n++) {
        // Uneven durations, so that new batches are fetched while others still run.
        await client.sendMessage(base64(JSON.stringify({ n, ms: 150 + ((n * 137) % 400) })));
    }
    const events = await waitForEvents(host, 'QueueConcurrency', (all) => all.length >= count, 30_000);
    const maxActive = Math.max(...events.map((event) => Number(event.active)));
    expect(maxActive).toBeLessThanOrEqual(4 + 2);
    // More than one batch was in flight at some point: fetching resumed at the threshold.
    expect(maxActive).toBeGreaterThan(4);
});

test('a queue output as return value is written encoded like the trigger expects', async () => {
    await queue('forward-in').sendMessage(base64('"hello"'));
    const [forwarded] = await waitForPeek('forward-out');
    expect(JSON.parse(fromBase64(forwarded))).toEqual({ forwarded: 'hello' });
});

function forTag(events: FixtureEvent[], tag: string): FixtureEvent[] {
    return events.filter((event) => (event.message as { tag?: string } | undefined)?.tag === tag);
}

async function waitForPeek(name: string, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const client = queue(name);
        if (await client.exists()) {
            const peeked = await client.peekMessages({ numberOfMessages: 32 });
            if (peeked.peekedMessageItems.length > 0) return peeked.peekedMessageItems.map((item) => item.messageText);
        }
        if (Date.now() > deadline) throw new Error(`No message in ${name} within ${timeoutMs} ms:\n${host.output()}`);
        await sleep(100);
    }
}
