import { randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { listPoison } from '../../../shared/poison';
import { createStorage, encodeQueueMessage } from '../../../shared/storage';
import { startPipelineHost, type PipelineHost } from '../../support/pipelineHost';
import { waitUntil } from '../../support/simulator';

/*
 * As deployed: a message fails every attempt, the host copies it to its poison queue with the
 * 7-day default, and the deployed PoisonKeeper function (on PoisonKeeperSchedule) makes it durable;
 * `aos poison` still lists it with the error of its last attempt.
 */

jest.setTimeout(90_000);

let stack: PipelineHost;

beforeAll(async () => {
    stack = await startPipelineHost({ PoisonKeeperSchedule: '*/2 * * * * *' });
});

afterAll(() => stack?.stop());

test('through the host: a message the host put in poison is kept without expiry by PoisonKeeper, and listed with its error', async () => {
    const { azurite, sim, host } = stack;
    // Confirmation of an instance that was never stored fails on every attempt (nothing is confirmed).
    const event = {
        specversion: '1.0',
        id: `never-stored-${randomUUID()}`,
        type: 'app.instance.process.completed',
        source: `${sim.appsUrl}/ttd/keeper-app/instances/50001001/${randomUUID()}`,
    };
    await new QueueClient(azurite.connectionString, 'events-confirmation').sendMessage(
        encodeQueueMessage(JSON.stringify(event)),
    );
    await host.waitForOutput(
        /Message has reached MaxDequeueCount of 2\. Moving message to queue 'events-confirmation-poison'/,
        30_000,
    );
    await host.waitForOutput(/step=poison-kept queue=events-confirmation-poison kept=1/, 15_000);

    const poison = new QueueClient(azurite.connectionString, 'events-confirmation-poison');
    const peeked = await waitUntil(
        async () => {
            const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: 32 });
            return peekedMessageItems.length === 1 && peekedMessageItems[0].expiresOn.getUTCFullYear() === 9999
                ? peekedMessageItems
                : undefined;
        },
        10_000,
        'the durable poison message',
    );
    expect(peeked[0].messageText).toBe(encodeQueueMessage(JSON.stringify(event)));

    const [listed] = await listPoison(createStorage({ AzureWebJobsStorage: azurite.connectionString }), [
        'events-confirmation',
    ]);
    expect(listed).toMatchObject({ eventId: event.id });
    expect(listed.lastError).toMatch(/not stored|instance\.json/i);
    expect(sim.counters().completes).toEqual({});
});
