import { QueueClient } from '@azure/storage-queue';
import type { Timer } from '@azure/functions';
import { handoffWatch } from '../../../functions/handoffWatch';
import { handOff, receivedQueue, type InstanceReceived } from '../../../shared/handoff/message';
import { handoffWaiting } from '../../../shared/handoff/watch';
import { createStorage, type Storage } from '../../../shared/storage';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { invocationContext } from '../../support/functions';

/*
 * The hand-off to the case systems against Azurite (issue 20 item 4): a message on
 * instances-received never expires (time-to-live -1, where Azure Queue Storage's default is 7 days),
 * and HandoffWatch reports how long the oldest one has waited (the handoff-waiting alert's line).
 */

jest.setTimeout(60_000);

let azurite: AzuriteInstance;
let storage: Storage;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
/** Azure answers ExpirationTime 9999-12-31T23:59:59Z for a message put with messagettl=-1. */
const neverYear = 9999;

function message(instanceGuid: string): InstanceReceived {
    return {
        kind: 'instance',
        instanceId: `50001234/${instanceGuid}`,
        org: 'ttd',
        app: 'apps-test',
        receivedAt: '2026-12-01T02:00:00.000Z',
        container: 'inbound',
        instanceBlob: `ttd/apps-test/${instanceGuid}/instance.json`,
        manifestBlob: `ttd/apps-test/${instanceGuid}/manifest.json`,
        version: null,
        elements: [],
    };
}

beforeAll(async () => {
    azurite = await startAzurite();
    process.env.AzureWebJobsStorage = azurite.connectionString;
    storage = createStorage({ AzureWebJobsStorage: azurite.connectionString });
});

afterAll(async () => {
    delete process.env.AzureWebJobsStorage;
    await azurite?.stop();
});

describe('the hand-off', () => {
    it('puts messages that never expire on instances-received', async () => {
        await handOff(storage, message('0b3c4d5e-1111-4222-8333-944455556666'), silent, {});
        const [peeked] = (await storage.queue(receivedQueue).peekMessages()).peekedMessageItems;
        expect(peeked.expiresOn.getUTCFullYear()).toBe(neverYear);

        // What the default would have given, for contrast: a week.
        const plain = new QueueClient(azurite.connectionString, 'ttl-default');
        await plain.createIfNotExists();
        await plain.sendMessage('x');
        const [other] = (await plain.peekMessages()).peekedMessageItems;
        const days = (other.expiresOn.getTime() - other.insertedOn.getTime()) / 86_400_000;
        expect(days).toBeCloseTo(7, 3);
    });

    it('is watched: the oldest waiting message and the count are logged for the handoff-waiting alert', async () => {
        const queue = storage.queue(receivedQueue);
        await queue.clearMessages();
        const { context, logs } = invocationContext('HandoffWatch');
        await handoffWatch({} as Timer, context);
        expect(logs).toEqual([]); // nothing waits: nothing to say

        await handOff(storage, message('1b3c4d5e-1111-4222-8333-944455556666'), silent, {});
        await handOff(storage, message('2b3c4d5e-1111-4222-8333-944455556666'), silent, {});
        const [first] = (await queue.peekMessages()).peekedMessageItems;
        const inTwoHours = new Date(first.insertedOn.getTime() + 2 * 3_600_000 + 60_000);
        expect(await handoffWaiting(storage, inTwoHours)).toEqual({
            queue: receivedQueue,
            messages: 2,
            oldestHours: 2,
        });

        await handoffWatch({} as Timer, context);
        expect(logs.map((log) => log.level)).toEqual(['information']);
        expect(logs[0].message).toMatch(
            /^step=handoff-waiting queue=instances-received messages=2 oldestHours=0(\.\d)?$/,
        );
    });

    it('says nothing when the queue does not exist yet', async () => {
        const fresh = createStorage({ AzureWebJobsStorage: azurite.connectionString });
        await fresh.queue(receivedQueue).deleteIfExists();
        expect(await handoffWaiting(fresh)).toBeUndefined();
    });
});
