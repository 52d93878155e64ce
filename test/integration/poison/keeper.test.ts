import type { QueueClient } from '@azure/storage-queue';
import { maxDequeueCount, readFailure, recordFailure } from '../../../shared/failures';
import { listPoison, replayPoison } from '../../../shared/poison';
import { keepPoison } from '../../../shared/poisonKeeper';
import { addToPoison } from '../../../shared/refusal';
import { createStorage, decodeQueueMessage, encodeQueueMessage, type Storage } from '../../../shared/storage';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { invocationContext } from '../../support/functions';

/*
 * PoisonKeeper against Azurite: the host's poison copies (storage's default time-to-live, 7 days)
 * are added again without expiry, unchanged, with what the copy loses kept in the failure record;
 * they stay listed and replayable, and a queue that holds only durable messages costs one peek.
 */

jest.setTimeout(30_000);

let azurite: AzuriteInstance;
let storage: Storage;
let poison: QueueClient;
const day = 24 * 3_600_000;

function event(id: string) {
    return {
        specversion: '1.0',
        id,
        type: 'app.instance.process.completed',
        source: `https://x/ttd/a/instances/1/${id}`,
    };
}

/** As the host's QueueProcessor copies a message: the text unchanged, no time-to-live (storage's 7 days). */
async function hostCopy(text: string): Promise<string> {
    await poison.createIfNotExists();
    return (await poison.sendMessage(encodeQueueMessage(text))).messageId;
}

async function peekAll() {
    return (await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems;
}

beforeAll(async () => {
    azurite = await startAzurite();
    storage = createStorage({ AzureWebJobsStorage: azurite.connectionString });
    poison = storage.queue('events-inbound-poison');
});

afterAll(() => azurite.stop());

test("the host's copies are added again without expiry, unchanged, and keep their first arrival and error", async () => {
    const failedAt = new Date(Date.now() - 3 * day).toISOString();
    await hostCopy(JSON.stringify(event('e-recorded')));
    await recordFailure(storage, {
        queue: 'events-inbound',
        eventId: 'e-recorded',
        error: 'Altinn answered 503',
        dequeueCount: 5,
        failedAt,
    });
    const bare = await hostCopy('not json at all');
    const durableId = await addToPoison(storage, 'events-inbound', JSON.stringify(event('e-durable')));
    const before = await peekAll();
    expect(before.map((item) => item.expiresOn.getTime() - item.insertedOn.getTime())).toEqual([
        7 * day,
        7 * day,
        expect.any(Number),
    ]);

    const { context, logs } = invocationContext('PoisonKeeper');
    expect(await keepPoison(storage, context, ['events-inbound', 'events-feedback'])).toEqual([
        { queue: 'events-inbound', kept: 2 },
        { queue: 'events-feedback', kept: 0 },
    ]);
    expect(logs.map((log) => log.message.split(' ')[0])).toEqual([
        'step=poison-message-kept',
        'step=poison-message-kept',
        'step=poison-kept',
    ]);

    const after = await peekAll();
    expect(after.every((item) => item.expiresOn.getUTCFullYear() === 9999)).toBe(true);
    // Same texts, byte for byte; the durable one is untouched (same id), the two copies have new ids.
    expect(after.map((item) => item.messageText).sort()).toEqual(before.map((item) => item.messageText).sort());
    expect(after.map((item) => item.messageId)).toContain(durableId);
    expect(after.map((item) => item.messageId)).not.toContain(bare);

    const listed = await listPoison(storage, ['events-inbound']);
    const recorded = listed.find((m) => m.eventId === 'e-recorded')!;
    expect(recorded.lastError).toBe('Altinn answered 503');
    // Its age still counts from when the host put it in poison, not from the keeper's copy.
    expect(recorded.insertedOn?.toISOString()).toBe(before[0].insertedOn.toISOString());
    const unrecorded = listed.find((m) => m.text === 'not json at all')!;
    expect(unrecorded.lastError).toMatch(/^not recorded: the Functions host moved it here/);
    expect(await readFailure(storage, 'events-inbound', { messageId: unrecorded.messageId })).toMatchObject({
        dequeueCount: maxDequeueCount(),
        poisonedAt: before[1].insertedOn.toISOString(),
    });

    // Replayable as before: the very text the function first had goes back on its queue.
    expect(await replayPoison(storage, { queue: 'events-inbound', messageIds: [recorded.messageId] })).toBe(1);
    const { receivedMessageItems } = await storage.queue('events-inbound').receiveMessages();
    expect(decodeQueueMessage(receivedMessageItems[0].messageText)).toBe(JSON.stringify(event('e-recorded')));
});

test('a poison queue that holds only durable messages is only peeked: nothing is received', async () => {
    const { context } = invocationContext('PoisonKeeper');
    const dequeueCounts = (await peekAll()).map((item) => item.dequeueCount);
    expect(await keepPoison(storage, context, ['events-inbound'])).toEqual([{ queue: 'events-inbound', kept: 0 }]);
    expect((await peekAll()).map((item) => item.dequeueCount)).toEqual(dequeueCounts);
});
